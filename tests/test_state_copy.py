"""The generated state copiers (engine.state.copy_state / copy_model, issue 10 item 12: the two
state copies a quarter were ~17% of the engine's time) against their definition, ``reference_copy``
(pydantic's dump, validated again): the same models with the same value types, no mutable object
shared with the original, and the reference's result (or its error) whenever validation would
convert or refuse a value."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from engine.bots import make_bot, run_bot
from engine.game import Game
from engine.state import GameState, GpuLot, Loan, copy_model, copy_state, reference_copy, state_hash
from scenarios import load_scenario


@pytest.fixture(scope="module")
def states() -> list[GameState]:
    """States from real games: a GPU fleet with debt (max-leverage), sculpted project debt
    (abilene), an inference platform's deployments, and the opening state."""
    out = []
    for scenario, bot, quarters in (("neocloud-2025", "max-leverage", 8), ("abilene", "max-leverage", 6),
                                     ("inference-2025", "inference-neocloud", 6), ("neocloud-2025", "barbell", 12)):
        game = Game(load_scenario(scenario).scenario, 2)
        out.append(copy_state(game.state))
        while not game.over and len(game.reports) < quarters:
            game.play(make_bot(bot).act(game.observation()))
            out.append(game.state)
    return out


def _shape(value: object) -> object:
    """A value with every type spelled out: 1 and 1.0 (or True) differ here, as they do in the hash."""
    if isinstance(value, BaseModel):
        return (type(value).__name__, {k: _shape(v) for k, v in value.__dict__.items()})
    if isinstance(value, list):
        return ["list", [_shape(v) for v in value]]
    if isinstance(value, dict):
        return ("dict", {k: _shape(v) for k, v in value.items()})
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan")
    return (type(value).__name__, value)


def _mutables(value: object, out: list) -> list:
    """Every mutable object inside a value (models, lists, dicts), the value itself first."""
    if isinstance(value, BaseModel):
        out.append(value)
        for v in value.__dict__.values():
            _mutables(v, out)
        out.append(value.__pydantic_fields_set__)
    elif isinstance(value, list):
        out.append(value)
        for v in value:
            _mutables(v, out)
    elif isinstance(value, dict):
        out.append(value)
        for v in value.values():
            _mutables(v, out)
    return out


def test_the_copy_of_played_states_is_the_reference_copy(states):
    """Issue 10 item 12: the generated copy of each state equals pydantic's dump-and-validate copy,
    field by field with the same types, and hashes the same."""
    assert len(states) > 20 and any(s.loans for s in states) and any(s.inference.deployments for s in states)
    for s in states:
        fast, ref = copy_state(s), reference_copy(s)
        assert type(fast) is GameState
        assert fast == ref and _shape(fast) == _shape(ref)
        assert state_hash(fast) == state_hash(ref) == state_hash(s)


def test_a_copy_shares_no_mutable_object_with_its_original(states):
    for s in states:
        theirs = {id(o) for o in _mutables(s, [])}
        ours = _mutables(copy_state(s), [])
        assert len(ours) > 10 and not any(id(o) in theirs for o in ours)


_MUTATIONS = ("append_lot", "lot_count", "ledger", "history", "offers", "dict", "loan_schedule", "inference")


def _mutate(s: GameState, how: str, n: int) -> None:
    if how == "append_lot" or not s.lots:
        s.lots.append(GpuLot(id=f"L{n}", gen="h100", count=n, ownership="owned", status="active", ordered_quarter=0, arrives_quarter=1))
    elif how == "lot_count":
        s.lots[n % len(s.lots)].count += n + 1
    if how == "ledger":
        s.ledger.balances["cash"] += n + 1
        s.ledger.cash_flows[f"operating:x{n}"] = n
    elif how == "history" and s.history:
        s.history[-1].covenant_event = f"event {n}"
    elif how == "offers":
        s.offers.contracts.clear()
        s.offers.loans.append(s.offers.loans[0] if s.offers.loans else None)  # type: ignore[arg-type]
    elif how == "dict":
        s.price_vs_market[f"g{n}"] = 0.5
        s.customer_base["h100/x"] = 0.25
    elif how == "loan_schedule" and s.loans:
        s.loans[n % len(s.loans)].principal_schedule_cents.append(n)
        s.loans[n % len(s.loans)].balance_cents -= 1
    elif how == "inference":
        s.inference.techniques["fp8"] = n
        for d in s.inference.deployments:
            d.replicas += 1


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_mutating_a_copy_leaves_the_original_as_it_was(states, data):
    """Whatever is changed in the copy (lists, dicts, nested models, their fields), the original's
    hash and values stay as they were."""
    s = data.draw(st.sampled_from(states))
    before, before_hash = reference_copy(s), state_hash(s)
    c = copy_state(s)
    for how in data.draw(st.lists(st.sampled_from(_MUTATIONS), min_size=1, max_size=5)):
        _mutate(c, how, data.draw(st.integers(min_value=0, max_value=50)))
    assert state_hash(s) == before_hash and s == before


# ------------------------------------------------------------------------------ values validation would change

_ODD_VALUES = st.one_of(
    st.integers(min_value=-3, max_value=3), st.floats(allow_nan=True, allow_infinity=True), st.booleans(), st.none(),
    st.sampled_from(["owned", "leased", "active", "closed", "on_order", "h100", "3", "", "OWNED"]),
    st.lists(st.integers(min_value=0, max_value=3), max_size=2),
)


def _outcome(copier, model: BaseModel) -> object:
    try:
        return _shape(copier(model))
    except ValidationError as exc:
        return ("ValidationError", [(e["loc"], e["type"]) for e in exc.errors()])


@pytest.mark.filterwarnings("ignore::UserWarning")  # the reference's dump warns about the odd values, as it should
@settings(max_examples=300, deadline=None)
@given(fields=st.dictionaries(st.sampled_from(sorted(GpuLot.model_fields)), _ODD_VALUES, max_size=4))
def test_a_lot_holding_any_values_copies_as_validation_would(fields):
    """A lot whose fields were assigned anything (an int in a float field, a bool in an int field,
    a word outside a Literal, None where a number is declared...) copies exactly as the reference
    does: the same converted values, or the same validation error."""
    lot = GpuLot(id="L1", gen="h100", count=8, ownership="owned", status="active", ordered_quarter=0, arrives_quarter=1,
                 lease_usd_per_hour=2.5)
    for name, value in fields.items():
        lot.__dict__[name] = value  # as an assignment without validation leaves it
    assert _outcome(copy_model, lot) == _outcome(reference_copy, lot)


def test_an_int_in_a_float_field_is_converted_as_validation_converts_it(states):
    s = copy_state(states[-1])
    s.price_vs_market["h100"] = 1  # an int where the model declares float: validation makes it 1.0
    s.lots[0].lease_usd_per_hour = 3
    fast, ref = copy_state(s), reference_copy(s)
    assert type(fast.price_vs_market["h100"]) is float and type(fast.lots[0].lease_usd_per_hour) is float
    assert _shape(fast) == _shape(ref) and state_hash(fast) == state_hash(ref)


def test_a_subclass_and_a_bad_word_take_the_reference_path(states):
    class MyLoan(Loan):
        pass

    s = copy_state(next(x for x in states if x.loans))
    s.loans[0] = MyLoan(**s.loans[0].model_dump())
    fast = copy_state(s)
    assert type(fast.loans[0]) is Loan and _shape(fast) == _shape(reference_copy(s))
    s = copy_state(states[-1])
    s.lots[0].__dict__["status"] = "stolen"  # not a word of the Literal: validation refuses it
    with pytest.raises(ValidationError):
        copy_state(s)
    with pytest.raises(ValidationError):
        reference_copy(s)
