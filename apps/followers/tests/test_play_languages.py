"""The player page's language: ``init``'s ``language``, limited to the operator's
``languages``, English otherwise; the script's strings from a catalogue served as a file."""

import pytest

from apps.followers.models import PlayerSession
from apps.followers.selectors import player_language
from apps.followers.tokens import player_token_issue
from apps.followers.views import PLAY_COOKIE

pytestmark = pytest.mark.django_db


def _with_language(make_session, language: str, user: str = "f1") -> PlayerSession:
    session = make_session(user)
    PlayerSession.objects.filter(pk=session.pk).update(language=language)
    return PlayerSession.objects.select_related("follower__operator").get(pk=session.pk)


@pytest.mark.parametrize(
    ("asked", "allowed", "used"),
    [
        ("es", "en,es,pt", "es"),
        ("pt-BR", "en,es,pt", "pt"),
        ("ES_es", "en,es", "es"),
        ("pt", "en", "en"),  # the operator does not allow it
        ("fr", "en,es,pt,fr", "en"),  # the site does not have it
        ("", "en,es,pt", "en"),
        ("es", " ES , pt ", "es"),
    ],
)
def test_the_language_is_inits_when_known_and_allowed_else_english(
    operator, make_session, asked, allowed, used
):
    operator.languages = allowed
    operator.save(update_fields=["languages"])
    assert player_language(_with_language(make_session, asked)) == used


def _page(client, session) -> str:
    client.cookies[PLAY_COOKIE] = player_token_issue(session)
    response = client.get("/play/")
    assert response.status_code == 200
    return response.content.decode()


def test_a_spanish_session_gets_the_page_in_spanish_with_the_spanish_catalogue(
    client, make_session
):
    page = _page(client, _with_language(make_session, "es"))
    assert '<html lang="es">' in page
    assert "En directo" in page and "Live now" not in page
    assert '<script src="/play/i18n/es.js"></script>' in page
    assert '"language": "es"' in page


def test_an_operator_allowing_english_only_gets_english(client, operator, make_session):
    operator.languages = "en"
    operator.save(update_fields=["languages"])
    page = _page(client, _with_language(make_session, "pt"))
    assert '<html lang="en">' in page and "Live now" in page
    assert "/play/i18n/en.js" in page


@pytest.mark.parametrize(
    ("language", "text"),
    [("es", '"Ver y copiar"'), ("pt", '"Ver e copiar"')],
)
def test_the_catalogue_is_a_script_file_with_the_translations(client, language, text):
    response = client.get(f"/play/i18n/{language}.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    body = response.content.decode()
    assert text in body and "django.gettext" in body


def test_a_language_the_site_does_not_have_has_no_catalogue(client):
    assert client.get("/play/i18n/fr.js").status_code == 404
