"""The company's state: everything the engine carries from one quarter to the next.

Serializable and hashable: ``canonical_json`` sorts keys and keeps money as integer cents, and
``state_hash`` is its SHA-256 (DESIGN.md "State is serializable and hashable").
"""

from __future__ import annotations

import hashlib
import json
from types import UnionType
from typing import Callable, ClassVar, Literal, Union, get_args, get_origin

from pydantic import BaseModel, Field, model_serializer

from engine.inference import InferenceState
from engine.ledger import Ledger


class Site(BaseModel):
    id: str
    name: str
    kind: Literal["colo", "owned"]
    mw: float  # IT power capacity
    pue: float
    power_source: str
    stage: Literal["provisioning", "permitting", "interconnect", "construction", "operating", "released"]
    stage_quarters_left: int = 0
    opened_quarter: int | None = None
    colo_usd_per_kw_month: float | None = None
    lease_end_quarter: int = 0  # colo: the committed term ends before this quarter (exclusive); 0 = none
    lease_discount_rate: float = 0.0  # colo: incremental borrowing rate at signing (ASC 842 / IFRS 16)
    capex_shell_cents: int = 0  # planned
    capex_power_cents: int = 0
    capex_spent_cents: int = 0
    capex_quarters_total: int = 0  # quarters over which capex is paid (interconnect + construction)
    dep_shell_cents: int = 0  # accumulated
    dep_power_cents: int = 0
    delays: int = 0


class GpuLot(BaseModel):
    id: str
    gen: str
    count: int
    ownership: Literal["owned", "leased"]
    status: Literal["on_order", "active", "closed"]
    site_id: str | None = None
    ordered_quarter: int
    arrives_quarter: int
    unit_cost_cents: int = 0  # owned: purchase incl. networking share
    cost_cents: int = 0  # gross book cost of the GPUs still in the lot
    accum_dep_cents: int = 0
    life_quarters: int = 16
    life_left_quarters: int | None = None  # set once impaired: the new book depreciates over what is left (IAS 36)
    impaired_cents: int = 0  # accumulated impairment, inside accum_dep_cents
    lease_usd_per_hour: float = 0.0
    lease_end_quarter: int = 0  # exclusive
    lease_discount_rate: float = 0.0  # annual incremental borrowing rate at signing (ASC 842 / IFRS 16)
    failed: int = 0
    sold: int = 0


class Contract(BaseModel):
    id: str
    customer: str
    segment: str
    gen: str
    gpus: int
    term_quarters: int
    usd_per_gpu_hour: float
    grade: str
    start_quarter: int
    end_quarter: int  # exclusive
    status: Literal["active", "ended", "defaulted"] = "active"


class OmitZero(BaseModel):
    """A model whose ``OMIT_ZERO`` int fields are left out of its serialized form while they are 0:
    fields added after runs were recorded, so those runs keep their state hashes. The fast
    canonical encoder (``_encoder``) knows this rule, so such models stay on its fast path."""

    OMIT_ZERO: ClassVar[tuple[str, ...]] = ()

    @model_serializer(mode="wrap")
    def _omit_zero(self, handler):
        data = handler(self)
        if isinstance(data, dict):
            for f in self.OMIT_ZERO:
                if data.get(f) == 0:
                    del data[f]
        return data


class Loan(OmitZero):
    id: str
    lender: str
    kind: Literal["term", "equipment", "project", "venture"]
    principal_cents: int
    balance_cents: int
    spread_bps: float
    tenor_quarters: int
    start_quarter: int
    scheduled_principal_cents: int  # level principal per quarter
    discount_cents: int = 0  # unamortized debt discount (venture warrants' fair value at issue), a contra-liability
    # "sculpted": principal_schedule_cents[i] is repaid in quarter start_quarter + i (CALIBRATION 16)
    amortization: Literal["level", "sculpted"] = "level"
    principal_schedule_cents: list[int] = Field(default_factory=list)
    # a balloon (bullet) left at maturity beyond the level schedule: refinanced then, or repaid from cash (KB §4)
    balloon_cents: int = 0
    # left out at 0: a loan without a balloon serializes (and hashes) as it did before the field existed
    OMIT_ZERO: ClassVar[tuple[str, ...]] = ("balloon_cents",)


class Holder(BaseModel):
    """A cap-table line. Warrants are a line of their own: ``shares`` is the count they convert
    into at ``strike_cents`` a share; they dilute by the treasury-stock method (engine/equity.py)."""

    name: str
    kind: Literal["founders", "investor", "warrants"]
    shares: int
    round: str = ""  # "Series B", "Series B (down round)", ...
    quarter: int | None = None  # when the shares or warrants were issued
    strike_cents: int = 0  # warrants: exercise price per share


class RoundRecord(BaseModel):
    """One priced equity round, for the cap table and the gap between rounds (KB §5)."""

    quarter: int
    round: str
    investor: str
    amount_cents: int
    pre_money_cents: int
    post_money_cents: int
    shares: int
    price_per_share_cents: float
    down_round: bool = False


class ContractOfferState(BaseModel):
    """A contract offer the player can sign this quarter (copied from the world)."""

    id: str
    customer: str
    segment: str
    gen: str
    gpus: int
    term_quarters: int
    usd_per_gpu_hour: float
    grade: str


class LoanOffer(BaseModel):
    id: str
    lender: str
    kind: Literal["term", "equipment", "project", "venture"]
    max_cents: int
    spread_bps: float
    tenor_quarters: int
    basis: str  # how the lender sized it, in words
    amortization: Literal["level", "sculpted"] = "level"
    principal_shares: list[float] = Field(default_factory=list)  # sculpted: share of the draw repaid each quarter
    target_dscr: float = 0.0  # the DSCR the lender sized the offer at (0: not sized on cash flow)
    alternative_to: str = ""  # an offer sized on the same cash flow: drawing either withdraws the other
    warrant_coverage: float = 0.0  # venture debt: warrants worth this share of the loan...
    warrant_price_cents: int = 0  # ...struck at this price per share


class EquityOffer(BaseModel):
    id: str
    investor: str
    round: str
    pre_money_cents: int
    max_cents: int
    cost_of_equity: float  # what that stage's investors expect a year (KB §5)
    down_round: bool = False  # pre-money below the last round's post-money
    basis: str = ""  # how the round was sized, in words


class Offers(BaseModel):
    contracts: list[ContractOfferState] = Field(default_factory=list)
    loans: list[LoanOffer] = Field(default_factory=list)
    equity: list[EquityOffer] = Field(default_factory=list)


class QuarterRecord(OmitZero):
    """What later quarters need to know about a past one (trailing tests, multiples)."""

    quarter: int
    revenue_cents: int
    contracted_revenue_cents: int
    ebitda_cents: int
    cash_taxes_cents: int
    cfads_cents: int
    debt_service_cents: int  # interest + scheduled principal
    equity_cure_cents: int = 0
    token_revenue_cents: int = 0
    depreciation_cents: int = 0
    cash_gross_profit_cents: int = 0  # revenue less cash costs of sales (power, sites, leases, rentals, ops)
    gpus_in_service: float = 0.0  # GPUs earning (renting or serving tokens) this quarter
    capex_cents: int = 0  # GPU purchases and construction paid this quarter (investing outflows)
    covenant_event: str = ""  # "", lock-up, default-notice, cured, accelerated, foreclosed, released
    cure_needed_cents: int = 0  # equity that would lift trailing DSCR to the lock-up level
    accelerated_cents: int = 0  # loan balances the lenders called and cash repaid
    prepayment_fee_cents: int = 0
    balloon_due_cents: int = 0  # balloons that fell due this quarter (engine.step._service_debt)
    refinanced_cents: int = 0  # of which the lenders refinanced at this quarter's rates; cash repaid the rest
    balloon_unpaid_cents: int = 0  # of which neither was enough for: a payment default (engine.step._maturity_default)
    # left out at 0: a quarter without a balloon serializes (and hashes) as it did before the fields existed
    OMIT_ZERO: ClassVar[tuple[str, ...]] = ("balloon_due_cents", "refinanced_cents", "balloon_unpaid_cents")


class GameState(BaseModel):
    scenario_id: str
    seed: int
    start: str
    quarters: int
    quarter: int = 0  # index of the quarter about to be played
    archetype: Literal["neocloud", "inference"] = "neocloud"
    company_name: str
    stage: str
    ledger: Ledger = Field(default_factory=Ledger)
    sites: list[Site] = Field(default_factory=list)
    lots: list[GpuLot] = Field(default_factory=list)
    contracts: list[Contract] = Field(default_factory=list)
    loans: list[Loan] = Field(default_factory=list)
    cap_table: list[Holder] = Field(default_factory=list)
    start_value_cents: int = 0  # the founders' stake as the engine values it after one quarter of no decisions
    offers: Offers = Field(default_factory=Offers)
    inference: InferenceState = Field(default_factory=InferenceState)
    price_vs_market: dict[str, float] = Field(default_factory=dict)  # per generation, 0.0 = at market
    batch_backlog: dict[str, float] = Field(default_factory=dict)  # GPU-hours queued, per generation
    customer_base: dict[str, float] = Field(default_factory=dict)  # "gen/segment" -> share of the segment we keep vs market price (1.0 absent; KB §1)
    nol_cents: int = 0  # loss carry-forward available at the start of the tax year
    tax_ytd_pretax_cents: int = 0  # calendar tax year to date: pre-tax income (KB §6: tax is annual)
    tax_ytd_paid_cents: int = 0  # estimated tax paid so far this tax year (net of refunds)
    rounds: list[RoundRecord] = Field(default_factory=list)
    history: list[QuarterRecord] = Field(default_factory=list)
    covenant: Literal["none", "ok", "lock-up", "default"] = "none"
    breaches_in_row: int = 0
    cure_due: bool = False  # a default-level test failed: cure with equity this quarter or lenders accelerate
    clean_tests: int = 0  # consecutive tests at or above the lock-up level while locked up (2 release it)
    next_id: int = 1
    game_over: bool = False
    bankrupt: bool = False
    end_reason: str = ""

    def new_id(self, prefix: str) -> str:
        ident = f"{prefix}{self.next_id}"
        self.next_id += 1
        return ident

    def site(self, site_id: str) -> Site | None:
        return next((s for s in self.sites if s.id == site_id), None)

    def lot(self, lot_id: str) -> GpuLot | None:
        return next((lot for lot in self.lots if lot.id == lot_id), None)

    def loan(self, loan_id: str) -> Loan | None:
        return next((loan for loan in self.loans if loan.id == loan_id), None)

    @property
    def cash_cents(self) -> int:
        return self.ledger.balances["cash"]

    @property
    def debt_cents(self) -> int:
        return -self.ledger.balances["debt"]

    @property
    def lease_liability_cents(self) -> int:
        return -self.ledger.balances["lease_liability"]


def copy_state(state: GameState) -> GameState:
    """An independent copy of the state, sharing no mutable object with it.

    Written by copiers generated from the models' field types (``_copier``): the same models as
    ``reference_copy`` (pydantic's dump, re-validated) in a fraction of the time (issue 10, item
    12: two copies a quarter were ~17% of the engine's time). A value validation would convert or
    refuse (an int in a float field, a subclass, a word outside a Literal...) sends the whole
    state down the reference path, so the copy never depends on which path ran."""
    return copy_model(state)


def copy_model(model: BaseModel) -> BaseModel:
    """``copy_state`` for any of the state's models (the offers a report carries, ...)."""
    try:
        return _copier(type(model))(model)
    except _NotPlain:
        return reference_copy(model)


def reference_copy(model: BaseModel) -> BaseModel:
    """The definition of a copy: pydantic's Python-mode dump, validated again into the same class."""
    return type(model).model_validate(model.model_dump())


def lot_has_ended(lot: GpuLot) -> bool:
    """A lot that is closed (sold out, or its lease ran its term) with nothing left on its books."""
    return lot.status == "closed" and lot.cost_cents == 0 and lot.accum_dep_cents == 0


def loan_has_ended(loan: Loan) -> bool:
    """A loan repaid in full whose debt discount is fully amortized: nothing owed, nothing to book."""
    return loan.balance_cents == 0 and loan.discount_cents == 0


def prune_ended(state: GameState) -> None:
    """Drop closed lots, ended or defaulted contracts and repaid loans: every reader in the engine
    and the app skips them, and the debrief reads the quarter reports, so they only made each later
    quarter slower to copy, hash and scan (issue 10, item 12). Ids stay unique: ``next_id`` never
    goes back, and an action naming a pruned lot or loan is refused as one naming a closed one."""
    if any(lot_has_ended(lot) for lot in state.lots):
        state.lots = [lot for lot in state.lots if not lot_has_ended(lot)]
    if any(c.status != "active" for c in state.contracts):
        state.contracts = [c for c in state.contracts if c.status == "active"]
    if any(loan_has_ended(loan) for loan in state.loans):
        state.loans = [loan for loan in state.loans if not loan_has_ended(loan)]


def canonical_json(state: GameState) -> str:
    """Sorted keys, no whitespace: the same state gives the same bytes on every machine.

    The models' fields handed to ``json.dumps``'s C encoder as they are, by functions generated
    from the field types (``_tree``): the same bytes as ``reference_canonical_json`` (pydantic's
    JSON-mode dump through ``json.dumps`` with sorted keys) without the dump (issue 10, item 12).
    A value whose JSON form could differ (an int in a float field, a subclass, a numpy float...)
    sends the whole state down the reference path, so the digest never depends on which path ran;
    a NaN is refused by both."""
    try:
        tree = _tree(GameState)(state)
    except _NotPlain:
        return reference_canonical_json(state)
    return _JSON_ENCODE(tree)


def reference_canonical_json(state: GameState) -> str:
    """The definition of the canonical form: pydantic's JSON-mode dump, keys sorted, no whitespace."""
    return json.dumps(state.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), allow_nan=False)


def state_hash(state: GameState) -> str:
    return hashlib.sha256(canonical_json(state).encode("utf-8")).hexdigest()


# ------------------------------------------------------------------------------ the fast encoders


class _NotPlain(Exception):
    """A value whose canonical JSON the generated encoders do not produce: use the reference."""


def _not_plain(_v: object = None) -> str:
    raise _NotPlain


# the reference's own final step (json.dumps with sorted keys, compact, no NaN), its C encoder
_JSON_ENCODE = json.JSONEncoder(sort_keys=True, separators=(",", ":"), allow_nan=False, check_circular=False).encode
_TREES: dict[type, Callable[[object], object]] = {}


def _encoder(cls: type[BaseModel]) -> Callable[[object], str]:
    """The canonical JSON of one model of this class: its JSON tree (``_tree``) through the C
    encoder; raises ``_NotPlain`` where the reference must decide."""
    tree = _tree(cls)
    return lambda m: _JSON_ENCODE(tree(m))


def _tree_expr(kind: tuple, x: str, env: dict[str, object], name: str) -> str | None:
    """A Python expression giving the JSON-ready form of the value ``x`` of this kind (its type
    already checked): ``x`` itself for scalars and containers of scalars (their items' types
    checked), the trees of nested models; it raises ``_NotPlain`` where the JSON-mode dump could
    differ from what ``json.dumps`` writes of the value."""
    tag, what, _ = kind
    if tag == "scalar":
        return None
    if tag == "model":
        env[name] = _tree(what)
        return f"{name}({x})"
    if tag == "optional":
        inner = _tree_expr(what, x, env, name)
        return None if inner is None else f"(None if {x} is None else {inner})"
    env[name + "t"] = _types_of(what)
    inner = _tree_expr(what, "y", env, name + "i")
    if tag == "list":
        if inner is None:
            return f"({x} if set(map(type, {x})) <= {name}t else _not_plain())"
        return f"[{inner} if type(y) in {name}t else _not_plain() for y in {x}]"
    keys = f"set(map(type, {x})) <= _str_only"
    if inner is None:
        return f"({x} if {keys} and set(map(type, {x}.values())) <= {name}t else _not_plain())"
    return f"({{k: ({inner} if type(y) in {name}t else _not_plain()) for k, y in {x}.items()}} if {keys} else _not_plain())"


def _tree(cls: type[BaseModel]) -> Callable[[object], object]:
    """One function per model class giving what its JSON-mode dump holds, as plain dicts, lists
    and exact scalars for ``json.dumps``: the fields' exact types checked at once against the
    field types (an int or a bool in a float field, a numpy float... is left to the reference),
    the model's own ``__dict__`` when every field is a scalar or a container of them, OmitZero's
    zero fields left out. Generated once per class, then cached (issue 10, item 12: the hash of
    every quarter's state)."""
    if cls in _TREES:
        return _TREES[cls]
    _TREES[cls] = lambda m: _TREES[cls](m)  # a model that contains itself resolves on first use
    fields = cls.model_fields
    kinds = {name: None if info.exclude else _kind(info.annotation) for name, info in fields.items()}
    omit = tuple(getattr(cls, "OMIT_ZERO", ()))
    decorators = cls.__pydantic_decorators__
    plain = (cls.model_config.get("extra") != "allow" and not cls.__pydantic_computed_fields__
             and not decorators.field_serializers
             and set(decorators.model_serializers) <= ({"_omit_zero"} if issubclass(cls, OmitZero) else set())
             and all(fields[f].annotation is int for f in omit if f in fields) and set(omit) <= set(fields)
             and None not in kinds.values())  # else pydantic's dump differs from the fields
    seen, check = _field_types_check(tuple(fields), [_types_of(k) for k in kinds.values()] if plain else [])
    env: dict[str, object] = {"_cls": cls, "_NotPlain": _NotPlain, "_not_plain": _not_plain, "_seen": seen,
                              "_check": check, "_str_only": frozenset([str])}
    lines = []
    for i, (name, kind) in enumerate(kinds.items() if plain else ()):
        expr = _tree_expr(kind, f"d[{name!r}]", env, f"_t{i}")
        if expr is not None:
            lines.append((name, expr))
    body = "    raise _NotPlain"
    if plain:
        body = "    if tuple(map(type, d.values())) not in _seen: _check(d)\n"
        if not omit and all(expr.startswith("(d[") for _, expr in lines):  # checks only: the fields as they are
            body += "".join(f"    {expr}\n" for _, expr in lines) + "    return d"
        else:
            body += "    n = d.copy()\n" + "".join(f"    n[{name!r}] = {expr}\n" for name, expr in lines)
            body += "".join(f"    if n[{f!r}] == 0: del n[{f!r}]\n" for f in omit) + "    return n"
    source = f"def tree(m):\n    if type(m) is not _cls: raise _NotPlain\n    d = m.__dict__\n{body}\n"
    exec(compile(source, f"<JSON tree of {cls.__name__}>", "exec"), env)
    _TREES[cls] = env["tree"]
    return env["tree"]


# ------------------------------------------------------------------------------ the fast copiers


_COPIERS: dict[type, Callable[[object], object]] = {}
_PLAIN_TYPES = (int, float, str, bool)


def _kind(annotation: object) -> tuple[str, object, object] | None:
    """How a declared type is copied: ("scalar", types, allowed words) for an immutable value
    (allowed words: a Literal's, else None), ("model", class, None), ("list"/"dict", item kind, None),
    ("optional", inner kind, None); None for a type these copiers do not handle."""
    if annotation in _PLAIN_TYPES:
        return "scalar", frozenset([annotation]), None
    origin, args = get_origin(annotation), get_args(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "model", annotation, None
    if origin is Literal and args and all(type(a) is str for a in args):
        return "scalar", frozenset([str]), frozenset(args)
    if origin in (Union, UnionType) and len(args) == 2 and type(None) in args:
        inner = _kind(next(a for a in args if a is not type(None)))
        return None if inner is None else ("optional", inner, None)
    if origin is list and len(args) == 1:
        inner = _kind(args[0])
        return None if inner is None else ("list", inner, None)
    if origin is dict and len(args) == 2 and args[0] is str:
        inner = _kind(args[1])
        return None if inner is None else ("dict", inner, None)
    return None


def _types_of(kind: tuple) -> frozenset:
    """The exact types validation keeps as they are for a value of this kind."""
    tag, what, _ = kind
    if tag == "scalar":
        return what
    if tag == "model":
        return frozenset([what])
    if tag == "optional":
        return _types_of(what) | {type(None)}
    return frozenset([list if tag == "list" else dict])


def _field_types_check(names: tuple[str, ...], allowed: list[frozenset]) -> tuple[set[tuple], Callable[[dict], None]]:
    """The first-sight check the generated copiers and JSON trees share, and the set it fills: a new
    combination of value types passes when every field is present, in order, each of a type
    ``allowed`` for it (what validation keeps as it is), and is then remembered (by types alone:
    pydantic builds ``__dict__`` in the fields' order and assigning a field keeps its place, so the
    same types mean the same fields); anything else raises ``_NotPlain``."""
    seen: set[tuple] = set()

    def check(d: dict) -> None:
        types = tuple(map(type, d.values()))
        if tuple(d) != names or any(t not in ok for t, ok in zip(types, allowed)):
            raise _NotPlain
        seen.add(types)

    return seen, check


def _copy_expr(kind: tuple, x: str, env: dict[str, object], name: str) -> str:
    """A Python expression copying the value ``x`` of this kind (its type already checked), that
    raises ``_NotPlain`` where validation would change or refuse what it holds."""
    tag, what, words = kind
    if tag == "scalar":
        if words is None:
            return x
        env[name] = words
        return f"({x} if {x} in {name} else _not_plain())"
    if tag == "model":
        env[name] = _copier(what)
        return f"{name}({x})"
    if tag == "optional":
        inner = _copy_expr(what, x, env, name)
        return x if inner == x else f"(None if {x} is None else {inner})"
    env[name + "t"] = _types_of(what)
    inner = _copy_expr(what, "y", env, name + "i")
    if tag == "list":
        if inner == "y":  # immutable items: their types checked, then a shallow copy
            return f"({x}[:] if set(map(type, {x})) <= {name}t else _not_plain())"
        return f"[{inner} if type(y) in {name}t else _not_plain() for y in {x}]"
    keys = f"set(map(type, {x})) <= _str_only"
    if inner == "y":
        return f"({x}.copy() if {keys} and set(map(type, {x}.values())) <= {name}t else _not_plain())"
    return f"({{k: ({inner} if type(y) in {name}t else _not_plain()) for k, y in {x}.items()}} if {keys} else _not_plain())"


def _copier(cls: type[BaseModel]) -> Callable[[object], object]:
    """One function per model class that copies an instance as ``reference_copy`` would: the
    fields' exact types checked at once against the field types (the combinations seen are
    remembered), Literal words checked, immutable values shared, lists and dicts copied, nested
    models by their own copier; anything validation would convert or refuse raises ``_NotPlain``.
    Generated once per class, then cached (as the canonical JSON encoders are)."""
    if cls in _COPIERS:
        return _COPIERS[cls]
    _COPIERS[cls] = lambda m: _COPIERS[cls](m)  # a model that contains itself resolves on first use
    fields = cls.model_fields
    kinds = {name: None if info.metadata or info.exclude else _kind(info.annotation) for name, info in fields.items()}
    decorators = cls.__pydantic_decorators__
    plain = (cls.model_config.get("extra") in (None, "ignore", "forbid") and not cls.__private_attributes__
             and cls.model_config.get("revalidate_instances", "never") == "never"
             and not (decorators.field_validators or decorators.model_validators or decorators.validators
                      or decorators.root_validators)  # else validation may change what the fields hold
             and None not in kinds.values())  # a constraint (ge=...) or a type not handled: validation decides
    seen, check = _field_types_check(tuple(fields), [_types_of(k) for k in kinds.values()] if plain else [])
    env: dict[str, object] = {"_cls": cls, "_NotPlain": _NotPlain, "_not_plain": _not_plain, "_new": object.__new__,
                              "_set": object.__setattr__, "_seen": seen, "_check": check, "_str_only": frozenset([str])}
    lines = []
    for i, (name, kind) in enumerate(kinds.items() if plain else ()):
        expr = _copy_expr(kind, f"d[{name!r}]", env, f"_c{i}")
        if expr != f"d[{name!r}]":
            lines.append(f"    n[{name!r}] = {expr}")
    body = "    raise _NotPlain"
    if plain:
        body = "\n".join([
            "    if tuple(map(type, d.values())) not in _seen: _check(d)", "    n = d.copy()", *lines,
            "    m2 = _new(_cls)", "    _set(m2, '__dict__', n)",
            "    _set(m2, '__pydantic_fields_set__', set(m.__pydantic_fields_set__))",
            "    _set(m2, '__pydantic_extra__', None)", "    _set(m2, '__pydantic_private__', None)", "    return m2"])
    source = f"def copy(m):\n    if type(m) is not _cls: raise _NotPlain\n    d = m.__dict__\n{body}\n"
    exec(compile(source, f"<copy of {cls.__name__}>", "exec"), env)
    _COPIERS[cls] = env["copy"]
    return env["copy"]
