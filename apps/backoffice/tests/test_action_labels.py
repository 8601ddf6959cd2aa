"""Staff actions are shown by their labels: every code the back office records has one, and
the log's list, its filter, its detail page, the dashboard and the object pages show it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.contrib import admin
from django.urls import reverse

from apps.backoffice.action_labels import RECORDED_LABELS, staff_action_label
from apps.backoffice.admin_actions import StaffActionsMixin
from apps.backoffice.models import StaffAction
from apps.backoffice.tests.admin_world import make_pool, secret_operator, staff_user, superuser

APPS = Path(__file__).resolve().parents[2]
# The one call that records a code it is handed: the confirmed actions' runner, with the
# spec's name (the specs' names are collected from the specs themselves).
SPEC_RUNNER = ("backoffice/admin_actions.py", "spec.name")
# The recorder itself, writing the row of the code it was handed.
RECORDER = ("backoffice/services.py", "action[:64]")


def _sources() -> list[tuple[Path, ast.Module]]:
    return [
        (path, ast.parse(path.read_text(), filename=str(path)))
        for path in sorted(APPS.rglob("*.py"))
        if "tests" not in path.relative_to(APPS).parts and "migrations" not in path.parts
    ]


def _constants(module: ast.Module) -> dict[str, str]:
    """Module-level ``NAME = "text"`` assignments."""
    found = {}
    for node in module.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name) and isinstance(node.value.value, str):
                    found[target.id] = node.value.value
    return found


class _Module:
    """One source file: its constants, and each node's enclosing function."""

    def __init__(self, path: Path, module: ast.Module):
        self.where = path.relative_to(APPS).as_posix()
        self.module = module
        self.constants = _constants(module)
        self.function_of: dict[ast.AST, ast.FunctionDef | ast.AsyncFunctionDef] = {}
        for node in ast.walk(module):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for inner in ast.walk(node):
                    self.function_of[inner] = node  # the innermost wins: walked last

    def calls(self, name: str) -> list[ast.Call]:
        return [
            node
            for node in ast.walk(self.module)
            if isinstance(node, ast.Call) and _called(node) == name
        ]

    def codes_of(self, value: ast.expr, depth: int = 0) -> list[str]:
        """The codes an ``action=`` argument can be: a literal, a module constant, either
        branch of a conditional, or a parameter of a helper (then what each call of the helper
        in this file passes). Anything else fails the test, so a new way of naming a code
        cannot slip past unlabelled."""
        where = f"{self.where}:{value.lineno}"
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            return [value.value]
        if isinstance(value, ast.IfExp):
            return self.codes_of(value.body, depth) + self.codes_of(value.orelse, depth)
        if isinstance(value, ast.Name) and value.id in self.constants:
            return [self.constants[value.id]]
        function = self.function_of.get(value)
        if isinstance(value, ast.Name) and function is not None and depth < 3:
            names = [a.arg for a in function.args.posonlyargs + function.args.args]
            if value.id in names:
                codes = []
                calls = self.calls(function.name)
                assert calls, f"{where}: {function.name}() is never called here"
                for call in calls:
                    codes += self.codes_of(_argument(call, names, value.id, where), depth + 1)
                return codes
        raise AssertionError(f"{where}: cannot tell which code `{ast.unparse(value)}` records")


def _called(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")


def _argument(call: ast.Call, names: list[str], name: str, where: str) -> ast.expr:
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    index = names.index(name)
    if isinstance(call.func, ast.Attribute) and names[:1] == ["self"]:
        index -= 1  # self.helper(...): self is not among the arguments
    assert 0 <= index < len(call.args), f"{where}: a call of the helper without `{name}`"
    return call.args[index]


RECORDING_CALLS = {"staff_action_record": "action", "StaffAction": "action"}
RECORDING_CALLS["StaffActionSpec"] = "name"


def recorded_codes() -> set[str]:
    """Every code written to the log: each ``staff_action_record(action=...)`` and
    ``StaffAction(...)`` call's code, and each ``StaffActionSpec(name=...)``'s."""
    codes: set[str] = set()
    spec_runner_seen = False
    for path, tree in _sources():
        source = _Module(path, tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or _called(node) not in RECORDING_CALLS:
                continue
            for keyword in node.keywords:
                if keyword.arg != RECORDING_CALLS[_called(node)]:
                    continue
                seen = (source.where, ast.unparse(keyword.value))
                if seen == SPEC_RUNNER:
                    spec_runner_seen = True
                    continue
                if seen == RECORDER:
                    continue
                codes.update(source.codes_of(keyword.value))
    assert spec_runner_seen, "the confirmed actions' runner was not found: the scan is broken"
    return codes


def registered_spec_codes() -> set[str]:
    return {
        spec.name
        for model_admin in admin.site._registry.values()
        if isinstance(model_admin, StaffActionsMixin)
        for spec in model_admin.staff_actions
    }


def test_every_recorded_code_has_a_label():
    codes = recorded_codes() | registered_spec_codes()
    # the scan found the codes of each way of recording one (a spec, a direct record, a
    # module constant, both branches of a conditional)
    assert {"follower_block", "invoice_generate", "reconciliation_run_now"} <= codes
    assert {"streamer_create", "streamer_update", "streamer_allowlist_add"} <= codes
    missing = sorted(codes - RECORDED_LABELS.keys())
    assert not missing, f"codes recorded without a label: {missing}"


def test_every_label_is_of_a_recorded_code_and_says_something_of_its_own():
    codes = recorded_codes() | registered_spec_codes()
    assert sorted(RECORDED_LABELS.keys() - codes) == []  # no label of a code never recorded
    labels = list(RECORDED_LABELS.values())
    assert len(set(labels)) == len(labels)  # the filter tells them apart
    assert all(label and label[0].isupper() and "_" not in label for label in labels)


@pytest.mark.parametrize(
    ("code", "label"),
    [
        ("pool_refresh_balance", "Refresh balance"),
        ("follower_block", "Block follower"),
        ("some_old_code", "Some old code"),  # recorded by an older release: its words
        ("", "(no action)"),
    ],
)
def test_staff_action_label(code, label):
    assert staff_action_label(code) == label


# --- the pages ---------------------------------------------------------------------------

pytestmark_db = pytest.mark.django_db


def _record(pool, action="pool_refresh_balance") -> StaffAction:
    return StaffAction.objects.create(
        username="ops",
        action=action,
        target_type="pools.pool",
        target_id=str(pool.pk),
        target_repr=str(pool),
        reason="Balance check",
        outcome="done",
        message="balance 1,000 USD",
    )


@pytestmark_db
def test_the_log_lists_and_filters_by_label(client):
    pool = make_pool(secret_operator(), 1, snapshots=0)
    _record(pool)
    _record(pool, "pool_settle")
    client.force_login(superuser())
    url = reverse("admin:backoffice_staffaction_changelist")
    # when
    page = client.get(url).content.decode()
    # then: the labels in the column (the code on hover) and in the filter, not the codes
    assert '<span title="pool_refresh_balance">Refresh balance</span>' in page
    assert "Settle and close pool" in page
    assert ">pool_refresh_balance<" not in page
    assert '?action=pool_settle"' in page and ">Settle and close pool</a>" in page
    # when: filtered by a label
    filtered = client.get(url, {"action": "pool_settle"})
    # then
    assert [a.action for a in filtered.context["cl"].result_list] == ["pool_settle"]
    # and the detail page
    detail = client.get(
        reverse("admin:backoffice_staffaction_change", args=[StaffAction.objects.first().pk])
    ).content.decode()
    assert "Settle and close pool" in detail


@pytestmark_db
@pytest.mark.parametrize("group", ["Operations", "Finance", "Read-only"])
def test_the_dashboard_and_the_pool_page_show_labels(client, group):
    pool = make_pool(secret_operator(), 1, snapshots=0)
    _record(pool)
    client.force_login(staff_user("staff", group))
    dashboard = client.get(reverse("admin:index")).content.decode()
    pool_page = client.get(reverse("admin:pools_pool_change", args=[pool.pk])).content.decode()
    recent = dashboard.split('id="cp-staff-actions-module"')[1].split("</div>")[0]
    assert '<strong title="pool_refresh_balance">Refresh balance</strong>' in recent
    panel = pool_page.split("field-staff_actions_taken")[1]
    assert '<span title="pool_refresh_balance">Refresh balance</span>' in panel
