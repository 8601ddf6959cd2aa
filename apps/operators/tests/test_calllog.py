from apps.operators.calllog import mask_body, mask_headers


def test_secret_fields_are_masked_in_json_bodies():
    masked = mask_body(
        b'{"userToken": "tok-abcdef123456", "amount": 10, "nested": {"secretKey": "s3cr3t-value-xyz"}}'
    )
    assert "tok-abcdef123456" not in masked and "s3cr3t-value-xyz" not in masked
    assert '"amount": 10' in masked and masked.count("\u2022") >= 12


def test_secret_fields_are_masked_in_broken_json():
    masked = mask_body(b'{"userToken": "tok-abcdef123456", "amount": 1')
    assert "tok-abcdef123456" not in masked and masked.endswith('"amount": 1')


def test_deeply_nested_json_is_masked_without_crashing():
    body = "[" * 100_000 + '"userToken": "tok-abcdef123456"' + "]" * 100_000
    masked = mask_body(body.encode())
    assert "tok-abcdef123456" not in masked


def test_player_token_in_urls_and_secret_headers_are_masked():
    assert "abcdefghijkl" not in mask_body('{"url": "http://x/play/?token=abcdefghijkl&stream=1"}')
    headers = mask_headers({"X-API-KEY": "key-1234567890", "Content-Type": "application/json"})
    assert headers == {"X-API-KEY": "\u2022" * 6 + "7890", "Content-Type": "application/json"}
