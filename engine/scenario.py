"""Scenario: the frozen, validated description of one game (DESIGN.md "Files").

The TOML loader (``scenarios`` package) does the file I/O and turns pydantic errors into
messages naming the file and field; this module only defines what is valid.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from engine.calendar import parse_quarter
from engine.hardware import GPUS
from engine.inference import InferenceParams
from engine.models import MODELS
from engine.money import MAX_USD
from engine.physics import TECHNIQUES
from engine.base import FileModel
from engine.world import WorldParams

PowerSource = Literal["grid", "stranded-gas", "ppa"]
Grade = Literal["AA", "A", "BBB", "BB", "B"]
INVESTMENT_GRADE = ("AA", "A", "BBB")


def _known_gpu(gen: str) -> str:
    if gen not in GPUS:
        raise ValueError(f"unknown GPU generation {gen!r}; valid: {', '.join(GPUS)}")
    return gen


class StartingSite(FileModel):
    id: str
    name: str
    kind: Literal["colo", "owned"]
    mw: float = Field(gt=0, le=2000)
    pue: float = Field(default=1.3, ge=1.0, le=2.0)
    power_source: PowerSource = "grid"
    colo_usd_per_kw_month: float | None = Field(default=None, gt=0, le=10_000)
    age_quarters: int = Field(default=0, ge=0, le=200)


class StartingLot(FileModel):
    gen: str
    count: int = Field(gt=0, le=1_000_000)  # 10^15 asked numpy for 55 TiB
    ownership: Literal["owned", "leased"] = "owned"
    site: str | None = None  # required for owned GPUs
    age_quarters: int = Field(default=0, ge=0, le=200)
    unit_cost_usd: float | None = Field(default=None, gt=0, le=10_000_000)  # owned: defaults to the world's list price
    lease_usd_per_hour: float | None = Field(default=None, gt=0, le=1000)
    lease_quarters_left: int | None = Field(default=None, gt=0, le=80)

    @field_validator("gen")
    @classmethod
    def _gen(cls, v: str) -> str:
        return _known_gpu(v)


class StartingContract(FileModel):
    customer: str
    segment: str = "enterprise"
    gen: str
    gpus: int = Field(gt=0, le=1_000_000)
    usd_per_gpu_hour: float = Field(gt=0, le=1000)
    grade: Grade = "A"
    quarters_left: int = Field(gt=0, le=80)

    @field_validator("gen")
    @classmethod
    def _gen(cls, v: str) -> str:
        return _known_gpu(v)


class StartingLoan(FileModel):
    lender: str
    balance_usd: float = Field(gt=0, le=MAX_USD)
    spread_bps: float = Field(ge=0, le=2000)
    quarters_left: int = Field(gt=0, le=80)
    # share of today's balance left as a balloon at maturity (1.0: a bullet); the rest amortizes level (KB §4)
    balloon_share: float = Field(default=0.0, ge=0, le=1)


class StartingDeployment(FileModel):
    model: str
    gen: str

    @field_validator("model")
    @classmethod
    def _model(cls, v: str) -> str:
        if v not in MODELS:
            raise ValueError(f"unknown model {v!r}; valid: {', '.join(MODELS)}")
        return v

    @field_validator("gen")
    @classmethod
    def _gen(cls, v: str) -> str:
        return _known_gpu(v)

    precision: Literal["bf16", "fp8", "fp4"] = "bf16"
    replicas: int = Field(gt=0, le=10_000)
    tpot_ms: float = Field(default=60.0, ge=5, le=500)  # the deploy_model action's own bounds


class StartingCompany(FileModel):
    name: str = "Flarestack Cloud"
    stage: Literal["seed", "series-a", "series-b", "series-c", "late", "public"] = "series-b"
    cash_usd: float = Field(ge=0, le=MAX_USD)
    valuation_usd: float = Field(gt=0, le=MAX_USD)  # post-money of the last round, for the story; the score is measured against the engine's own valuation (engine.step._start_value)
    founder_shares: int = Field(gt=0, le=10**15)
    investor_shares: int = Field(ge=0, le=10**15)
    sites: tuple[StartingSite, ...] = ()
    lots: tuple[StartingLot, ...] = ()
    contracts: tuple[StartingContract, ...] = ()
    loans: tuple[StartingLoan, ...] = ()
    deployments: tuple[StartingDeployment, ...] = ()  # managed-inference catalog at the start
    techniques: tuple[str, ...] = ()  # KB §17 optimizations already built

    @field_validator("techniques")
    @classmethod
    def _techniques(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for t in v:
            if t not in TECHNIQUES:
                raise ValueError(f"unknown technique {t!r}; valid: {', '.join(TECHNIQUES)}")
        return v

    @model_validator(mode="after")
    def _references(self) -> "StartingCompany":
        ids = {s.id for s in self.sites}
        if len(ids) != len(self.sites):
            raise ValueError("site ids must be unique")
        for lot in self.lots:
            if lot.ownership == "owned" and lot.site not in ids:
                raise ValueError(f"owned lot of {lot.gen} names site {lot.site!r}; valid: {sorted(ids)}")
            if lot.ownership == "leased" and (lot.lease_usd_per_hour is None or lot.lease_quarters_left is None):
                raise ValueError("a leased lot needs lease_usd_per_hour and lease_quarters_left")
        return self


class CompanyRules(FileModel):
    """How the company's costs and lenders behave; defaults cite the knowledge base."""

    gpu_life_years: float = Field(default=4.0, ge=2, le=8)  # KB §3: 3-5 years straight line
    shell_life_years: float = Field(default=20.0, ge=10, le=40)  # KB §18: shell 15-25 years
    power_life_years: float = Field(default=15.0, ge=5, le=25)  # KB §18 / CALIBRATION 18: power and cooling plant 15-20 years
    networking_share: float = Field(default=0.15, ge=0, le=0.4)  # KB §1/§7: InfiniBand adds 15-25%
    annual_failure_rate: float = Field(default=0.03, ge=0, le=0.2)  # KB §1: 2-5% a year
    ops_usd_per_gpu_hour: float = Field(default=0.10, ge=0, le=100)  # KB §2 table: operations/platform
    site_opex_usd_per_kw_month: float = Field(default=8.0, ge=0, le=10_000)  # staff, maintenance of owned sites
    build_shell_usd_per_mw: float = Field(default=3_000_000, gt=0, le=1_000_000_000)
    build_power_usd_per_mw: float = Field(default=7_000_000, gt=0, le=1_000_000_000)
    permit_quarters: int = Field(default=2, ge=0, le=12)
    interconnect_quarters: int = Field(default=2, ge=0, le=12)
    construction_quarters: int = Field(default=3, ge=1, le=12)
    construction_delay_prob: float = Field(default=0.15, ge=0, le=1)
    owned_pue: float = Field(default=1.2, ge=1.0, le=2.0)
    colo_pue: float = Field(default=1.35, ge=1.0, le=2.0)
    colo_term_quarters: int = Field(default=8, ge=1, le=40)  # a colo lease commits the rent for its term (retail colo: 1-3 years)
    rnd_usd_per_quarter: float = Field(default=1_000_000, ge=0, le=10_000_000_000)
    ga_usd_per_quarter: float = Field(default=1_200_000, ge=0, le=10_000_000_000)
    ga_usd_per_gpu_quarter: float = Field(default=150.0, ge=0, le=100_000)
    sales_share_of_revenue: float = Field(default=0.04, ge=0, le=0.5)
    tax_rate: float = Field(default=0.21, ge=0, le=0.5)  # KB §6
    nol_limit: float = Field(default=0.80, ge=0, le=1)  # US rule: NOLs offset up to 80% of taxable income
    uncontracted_haircut: float = Field(default=0.4, ge=0, le=1)  # lenders' downside case: merchant revenue 40% below today's (KB §4)
    covenant_lockup_dscr: float = Field(default=1.30, ge=1.0, le=3.0)  # KB §4: 1.3x covenant
    covenant_default_dscr: float = Field(default=1.05, ge=0.5, le=2.0)
    lockup_sweep_share: float = Field(default=0.5, ge=0, le=1)
    sla_credit_multiple: float = Field(default=2.0, ge=0, le=10)
    max_equity_share_per_round: float = Field(default=0.30, gt=0, le=0.9)
    inference: InferenceParams = InferenceParams()

    @model_validator(mode="after")
    def _covenants(self) -> "CompanyRules":
        if self.covenant_default_dscr >= self.covenant_lockup_dscr:
            raise ValueError("covenant_default_dscr must be below covenant_lockup_dscr")
        return self


class LessonCheck(FileModel):
    """The lesson as a comparison of strategies (issue 9 item 13): over seeds 1-20 the median
    score of ``better`` beats ``worse`` by ``margin``; with ``calm`` both play the scenario with
    its scripted events removed (the counterfactual that shows the events decide)."""

    better: str = Field(min_length=1, max_length=200)  # a built-in bot
    worse: str = Field(min_length=1, max_length=200)
    margin: float = Field(default=0.0, ge=0, le=10)
    calm: bool = False
    because: str = Field(default="", max_length=500)


PLAYER = "player"  # the single player's company among rivals (engine.industry); no rival may take the name
MAX_RIVALS = 11  # an industry has at most 12 companies (game.industry.MAX_COMPANIES)


class Rival(FileModel):
    """A rival company of a single-player game (issue 15): its name and the built-in bot that runs
    it. It starts as the scenario's company (equal start) and competes for the same customers."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
    bot: str

    @field_validator("bot")
    @classmethod
    def _known_bot(cls, v: str) -> str:
        from engine.bots import BOTS  # the bots import the game, which imports this module

        if v not in BOTS:
            raise ValueError(f"unknown bot {v!r}; valid: {', '.join(BOTS)}")
        return v


class Scenario(FileModel):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str
    briefing: str
    archetype: Literal["neocloud", "inference"] = "neocloud"
    difficulty: Literal["tutorial", "easy", "normal", "hard", "expert"] = "normal"
    start: str = "2025Q1"
    quarters: int = Field(default=20, ge=4, le=40)
    objectives: tuple[str, ...] = ()
    lesson: str = ""
    # when the debrief names the lesson: the situation it teaches must have happened in the game
    lesson_when: Literal[
        "always", "gpu_price_fall", "rate_shock", "price_war", "spike", "new_generation", "long_contract_offer",
        "dedicated_inference", "debt", "technique_shipped", "contract_signed",
    ] = "always"
    lesson_checks: tuple[LessonCheck, ...] = Field(default=(), max_length=8)
    company: StartingCompany
    rules: CompanyRules = CompanyRules()
    world: WorldParams = WorldParams()
    rivals: tuple[Rival, ...] = Field(default=(), max_length=MAX_RIVALS)  # issue 15: bot-run companies in the same market

    @field_validator("start")
    @classmethod
    def _start(cls, v: str) -> str:
        parse_quarter(v)
        return v

    @model_validator(mode="after")
    def _owned_generations_on_roadmap(self) -> "Scenario":
        """Every GPU generation the company starts with must be on the world's roadmap (its market prices it)."""
        roadmap = [g.gen for g in self.world.roadmap]
        c = self.company
        for where, gen in [("lots", x.gen) for x in c.lots] + [("contracts", x.gen) for x in c.contracts] + [("deployments", x.gen) for x in c.deployments]:
            if gen not in roadmap:
                raise ValueError(f"company.{where} holds {gen!r}, which is not on world.roadmap {roadmap}")
        return self

    @model_validator(mode="after")
    def _rival_names(self) -> "Scenario":
        names = [r.name for r in self.rivals]
        if len(set(names)) != len(names) or PLAYER in names:
            raise ValueError(f"rivals: names must be unique and not {PLAYER!r}, got {', '.join(names)}")
        return self

    @model_validator(mode="after")
    def _something_to_buy(self) -> "Scenario":
        first = min((g.launch for g in self.world.roadmap), key=parse_quarter, default=None)
        if first is None or parse_quarter(first) > parse_quarter(self.start):
            raise ValueError(f"start {self.start} is before any GPU generation on the roadmap launches (first: {first})")
        return self
