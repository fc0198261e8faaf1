import ast
import dataclasses
import importlib
import math
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lab.params import PARAMS, Param, all_params, param, register, validate

ROOT = Path(__file__).resolve().parents[1]
ALL = all_params()  # every topic module imported, so every topic's parameters are registered


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("lr", 0.0, "The 'lr' parameter must be in the range (1e-05, 10.0]. Got 0.0 instead."),
        ("lr", -1, "The 'lr' parameter must be in the range (1e-05, 10.0]. Got -1 instead."),
        ("lr", 11.0, "The 'lr' parameter must be in the range (1e-05, 10.0]. Got 11.0 instead."),
        ("lr", math.nan, "The 'lr' parameter must be finite. Got nan instead."),
        ("lr", "0.1", "The 'lr' parameter must be a number. Got '0.1' instead."),
        ("lr", True, "The 'lr' parameter must be a number. Got True instead."),
        ("keep_prob", 0.0, "The 'keep_prob' parameter must be in the range (0.0, 1.0]. Got 0.0 instead."),
        ("keep_prob", 1.5, "The 'keep_prob' parameter must be in the range (0.0, 1.0]. Got 1.5 instead."),
        ("beta", 1.0, "The 'beta' parameter must be in the range [0.0, 1.0). Got 1.0 instead."),
        ("lambd", -0.1, "The 'lambd' parameter must be in the range [0.0, 100.0]. Got -0.1 instead."),
        ("batch_size", 0, "The 'batch_size' parameter must be in the range [1, 100000]. Got 0 instead."),
        ("num_iterations", 2.5, "The 'num_iterations' parameter must be a whole number. Got 2.5 instead."),
        ("seed", -1, "The 'seed' parameter must be in the range [0, 2147483647]. Got -1 instead."),
        ("loss", "hinge", "The 'loss' parameter must be one of ['cross_entropy', 'squared_error']. Got 'hinge'"),
    ],
)
def test_bad_values_raise_value_error_naming_parameter_and_value(name, value, message):
    with pytest.raises(ValueError) as error:
        validate(name, value)
    assert str(error.value).startswith(message)


def test_unknown_parameter_is_a_value_error():
    with pytest.raises(ValueError, match="Unknown parameter 'alpha'"):
        validate("alpha", 0.1)


def test_valid_values_pass_through_and_integers_are_ints():
    assert validate("lr", 10.0) == 10.0
    assert validate("keep_prob", 1.0) == 1.0
    assert validate("num_iterations", 100.0) == 100 and isinstance(validate("num_iterations", 100.0), int)
    assert validate("loss", "squared_error") == "squared_error"


@pytest.mark.parametrize("declared", [p for p in ALL.values() if not p.options], ids=lambda p: p.name)
def test_defaults_and_slider_ranges_are_valid(declared):
    declared.validate(declared.default)
    low, high = declared.slider_range
    declared.validate(low)
    declared.validate(high)
    assert low < high


@pytest.mark.parametrize("declared", [p for p in ALL.values() if p.options], ids=lambda p: p.name)
def test_option_defaults_are_options(declared):
    assert declared.validate(declared.default) == declared.default


def _declared_names() -> dict[str, list[str]]:
    """Every `Param("name", …)` written in lab's source, by name → the files that declare it."""
    found: dict[str, list[str]] = {}
    for path in sorted((ROOT / "lab").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Param"
                    and node.args and isinstance(node.args[0], ast.Constant)):
                found.setdefault(node.args[0].value, []).append(str(path.relative_to(ROOT)))
    return found


def test_every_parameter_is_declared_exactly_once_and_registered():
    declared = _declared_names()
    twice = {name: files for name, files in declared.items() if len(files) > 1}
    assert not twice, f"declared more than once: {twice}"
    assert set(declared) == set(ALL), set(declared) ^ set(ALL)
    assert all(name == p.name for name, p in ALL.items())


def test_only_shared_parameters_are_declared_in_lab_params():
    """lab.params declares the knobs several topics share; a topic's own knob lives next to the topic's code."""
    shared = {"lr", "num_iterations", "num_epochs", "batch_size", "init_factor", "keep_prob", "lambd", "beta",
              "beta1", "beta2", "epsilon", "seed", "activation", "init_scheme", "depth", "hidden_units",
              "optimizer", "example_index"}
    assert {n for n, files in _declared_names().items() if files == ["lab/params.py"]} == shared


def test_register_refuses_a_conflicting_duplicate_and_registers_nothing_of_that_call():
    lr = PARAMS["lr"]
    fresh = Param("_test_fresh", "Fresh", "A parameter this test adds and removes.", 1, low=0, high=2)
    try:
        with pytest.raises(ValueError, match="The parameter 'lr' is already declared differently"):
            register(fresh, dataclasses.replace(lr, high=20.0))
        assert PARAMS["lr"] is lr and "_test_fresh" not in PARAMS
        with pytest.raises(ValueError, match="'_test_fresh' is already declared differently"):
            register(fresh, dataclasses.replace(fresh, default=2))
        assert "_test_fresh" not in PARAMS
    finally:
        PARAMS.pop("_test_fresh", None)


def test_register_accepts_the_identical_declaration_again():
    before = dict(PARAMS)
    register(dataclasses.replace(PARAMS["stride"]))  # equal, not the same object: as after a module reload
    assert before == PARAMS


def test_reloading_a_topic_module_is_harmless():
    import lab.convolution

    before = dict(PARAMS)
    importlib.reload(lab.convolution)
    assert before == PARAMS


def test_register_takes_only_params():
    with pytest.raises(TypeError, match="register\\(\\) takes Param declarations"):
        register({"name": "lr"})


def test_param_returns_the_declaration_or_a_value_error_listing_the_known_names():
    assert param("lr") is PARAMS["lr"]
    with pytest.raises(ValueError, match=r"Unknown parameter 'alpha'; known parameters: \[.*'lr'.*\]"):
        param("alpha")


def test_a_topic_parameter_is_registered_by_importing_its_topic():
    code = ("from lab.params import PARAMS\nbefore = 'stride' in PARAMS\nimport lab.convolution\n"
            "print(before, 'stride' in PARAMS, 'photo' in PARAMS)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.split() == ["False", "True", "False"]


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_keep_prob_accepts_exactly_the_half_open_unit_interval(value):
    if 0.0 < value <= 1.0:
        assert validate("keep_prob", value) == value
    else:
        with pytest.raises(ValueError, match="'keep_prob'"):
            validate("keep_prob", value)
