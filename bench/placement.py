"""Placement over the whole demo city: the optimiser's sites against the requests' own plan.

Run by hand from the repository root:

    .venv/bin/python bench/placement.py [--budgets 10 25 50] [--grids 100 50] [--radius 100] \\
        [--requests 80] [--blocks 250 500]

It seeds the demo city (1,100 cameras, a year of 12,186 crime records, five districts over
555 km²) into a temporary SQLite database and, where the demo holds no open requests, files
``--requests`` of them the way akimats and the police fill a queue: most at schools, yards
and parks residents worry about, some at markets and stations, a few anywhere people live,
with mixed urgency over the past year. Then, for each budget, the whole plan as the API makes
it (``service.plan_placement`` for an analyst: reading the tables, grid, demand cells, the
sparse coverage, the MCLP on CBC, the answer) is timed, and printed with the candidates, the
demand points before and after the exact reduction, and the covered share of weighted demand:
existing cameras alone, plus the optimiser's sites, plus the requests' plan (the first
``budget`` requests by urgency, then submission date). The ratio is the weight the
optimiser's sites add over the weight the requests' plan adds, in the same run.

The second part measures spopt's own ``MCLP.from_cost_matrix`` (a dense demand × sites cost
matrix, one coverage term per pair, zeros included) on square blocks of the same reduced
model, checks that it reaches the same optimum as the sparse model on each block, and
extrapolates its build time and memory to the full model by entries.
"""

from __future__ import annotations

import argparse
import itertools
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pulp
from scipy.sparse import csr_matrix
from spopt.locate import MCLP
from sqlalchemy import func, select

from safecity.auth.roles import Role, Scope
from safecity.city.crime_register import PUBLIC_PLACE_KINDS
from safecity.city.districts import stored_district_locator
from safecity.city.models import Organization, OrganizationKind, Site, SiteKind
from safecity.demo.city import build_demo_city
from safecity.demo.seed import seed_demo_city
from safecity.insights.models import CrimeRecord
from safecity.planning.placement.candidates import area_in_metres, grid_points
from safecity.planning.placement.coverage import coverage_matrix, covered
from safecity.planning.placement.demand import gather_demand, kind_weights
from safecity.planning.placement.mclp import solve_mclp
from safecity.planning.placement.planning import PlacementSettings
from safecity.planning.placement.planning import plan_placement as plan_city
from safecity.planning.placement.schemas import PlacementQuery
from safecity.planning.placement.service import plan_placement
from safecity.planning.placement.store import CrimeFilter, Planner, placement_city
from safecity.planning.requests.models import CameraRequest, RequestStatus, Urgency
from safecity.store import migrate
from safecity.store.engine import Database

ASKED_AT = {SiteKind.SCHOOL: 4.0, SiteKind.YARD: 4.0, SiteKind.PARK: 3.0, SiteKind.HOSPITAL: 1.0}
HOTSPOTS = {SiteKind.MARKET: 2.0, SiteKind.TRANSPORT_HUB: 2.0, SiteKind.SQUARE: 1.0}
URGENCIES = [
    (Urgency.URGENT, 0.1),
    (Urgency.HIGH, 0.25),
    (Urgency.NORMAL, 0.45),
    (Urgency.LOW, 0.2),
]
STATUSES = [
    (RequestStatus.SUBMITTED, 0.5),
    (RequestStatus.UNDER_REVIEW, 0.3),
    (RequestStatus.APPROVED, 0.2),
]


def uptime() -> None:
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


def file_requests(database: Database, count: int, seed: int = 13) -> int:
    """``count`` open requests (none where the demo has some): half at the sites residents
    worry about (schools, yards, parks, markets, stations), half where people have seen
    trouble (near a crime in a public place, as a complaint to the akimat would put it)."""
    rng = np.random.default_rng(seed)
    with database.session() as session:
        existing = session.scalar(select(func.count()).select_from(CameraRequest)) or 0
        if existing:
            return int(existing)
        locator = stored_district_locator(session)
        akimats = {
            org.district_id: org.id
            for org in session.scalars(
                select(Organization).where(Organization.kind == OrganizationKind.AKIMAT)
            )
            if org.district_id is not None
        }
        police = session.scalar(
            select(Organization.id).where(Organization.kind == OrganizationKind.POLICE)
        )
        sites = session.scalars(select(Site).order_by(Site.id)).all()
        weights = np.array(
            [ASKED_AT.get(site.kind, 0.0) + HOTSPOTS.get(site.kind, 0.0) for site in sites]
        )
        crimes = session.execute(
            select(CrimeRecord.latitude, CrimeRecord.longitude)
            .where(CrimeRecord.place_kind.in_(sorted(PUBLIC_PLACE_KINDS)))
            .order_by(CrimeRecord.id)
        ).all()
        now = datetime(2026, 11, 1, tzinfo=UTC)
        filed = 0
        for number in range(1, count + 1):
            if rng.random() < 0.5:
                site = sites[int(rng.choice(len(sites), p=weights / weights.sum()))]
                where, about = (site.latitude, site.longitude), site.name
                by_police = site.kind in HOTSPOTS and rng.random() < 0.6
            else:
                where, about = crimes[int(rng.integers(len(crimes)))], "this crossing"
                by_police = rng.random() < 0.4
            # Not the exact spot: the gate, the yard behind it, the crossing in front.
            distance, angle = rng.uniform(20, 150), rng.uniform(0, 2 * np.pi)
            lat = where[0] + distance * np.sin(angle) / 111_200
            lon = where[1] + distance * np.cos(angle) / (111_200 * np.cos(np.radians(lat)))
            district = locator.locate(lat, lon)
            if district is None:
                continue
            session.add(
                CameraRequest(
                    number=f"REQ-2026-{number:04d}",
                    organization_id=police if by_police and police else akimats[district],
                    district_id=district,
                    latitude=round(float(lat), 6),
                    longitude=round(float(lon), 6),
                    justification=f"Residents ask for a camera at {about}.",
                    urgency=URGENCIES[rng.choice(4, p=[p for _, p in URGENCIES])][0],
                    status=STATUSES[rng.choice(3, p=[p for _, p in STATUSES])][0],
                    submitted_at=now - timedelta(days=float(rng.uniform(0, 365))),
                )
            )
            filed += 1
        return filed


def spopt_dense_block(
    matrix: csr_matrix, weight: np.ndarray, order: np.ndarray, size: int, budget: int
) -> tuple[int, float, float, float]:
    """spopt's from_cost_matrix on ``size`` neighbouring demand points (west to east) and every
    site that reaches them: the block's entries, build seconds, its optimum, and the sparse
    model's optimum on the same block."""
    rows = matrix[order[:size]]
    columns = np.unique(rows.indices)
    block = rows[:, columns]
    w = weight[order[:size]]
    cost = np.where(block.toarray() > 0, 0.0, 1000.0)
    started = time.perf_counter()
    model = MCLP.from_cost_matrix(cost, w, service_radius=1.0, p_facilities=budget)
    built = time.perf_counter() - started
    model.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=120), results=False)
    dense = float(pulp.value(model.problem.objective))
    sparse = solve_mclp(block, w, budget).covered_weight
    return cost.size, built, dense, sparse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--budgets", type=int, nargs="+", default=[10, 25, 50])
    parser.add_argument("--grids", type=float, nargs="+", default=[100.0, 50.0])
    parser.add_argument("--radius", type=float, default=100.0)
    parser.add_argument("--requests", type=int, default=80)
    parser.add_argument("--blocks", type=int, nargs="+", default=[250, 500])
    args = parser.parse_args()

    uptime()
    with tempfile.TemporaryDirectory(prefix="safecity-bench-placement-") as folder:
        database = Database(f"sqlite:///{Path(folder) / 'safecity.db'}")
        migrate.upgrade(database)
        started = time.perf_counter()
        city = build_demo_city()
        seed_demo_city(database, city)
        requests = file_requests(database, args.requests)
        print(
            f"demo city: {len(city.cameras):,} cameras, {len(city.crimes):,} crime records, "
            f"{requests} requests; seeded in {time.perf_counter() - started:.1f} s"
        )
        scope = Scope(city_wide=True)
        planner = Planner(Role.ANALYST, None)
        print(
            f"\nradius {args.radius:g} m, demand cells 25 m, crimes in public places (all "
            "dates), default weights"
        )
        header = (
            f"{'grid m':>6} {'budget':>6} {'time s':>7} {'read s':>6} {'build s':>7} {'solve s':>7} "
            f"{'cands':>8} {'model':>6} {'demand':>6} {'model':>6} {'status':>8} "
            f"{'before':>7} {'optim.':>7} {'requests':>8} {'ratio':>6}"
        )
        print(header)
        for grid_m, budget in itertools.product(args.grids, args.budgets):
            query = PlacementQuery(budget=budget, grid_m=grid_m, radius_m=args.radius)
            with database.session() as session:
                read_started = time.perf_counter()
                placement_city(session, planner, scope, CrimeFilter())
                read = time.perf_counter() - read_started
                answer = plan_placement(session, planner, scope, query)
            c, s = answer.coverage, answer.solver
            ratio = f"{c.ratio:.2f}" if c.ratio is not None else "-"
            print(
                f"{grid_m:>6g} {budget:>6} {s.total_s:>7.2f} {read:>6.2f} {s.build_s:>7.2f} {s.solve_s:>7.2f} "
                f"{s.candidates:>8,} {s.model_sites:>6,} {s.demand_points:>6,} "
                f"{s.model_demand:>6,} {s.status.value:>8} {c.before.share:>7.1%} "
                f"{c.optimised.share:>7.1%} {c.requests.share:>8.1%} {ratio:>6}"
            )
        uptime()

        # spopt's dense build on blocks of the same problem, and the same optimum.
        with database.session() as session:
            stored = placement_city(session, planner, scope, CrimeFilter())
        inputs = stored.inputs
        grid_m = args.grids[-1]
        plan = plan_city(inputs, PlacementSettings(budget=args.budgets[0], grid_m=grid_m))
        projection = plan.projection
        demand = gather_demand(
            projection.to_metres(inputs.crimes.latitudes, inputs.crimes.longitudes),
            [kind_weights()[k] for k in inputs.crimes.kinds],
            25.0,
        )
        cameras = projection.to_metres(inputs.cameras[:, 0], inputs.cameras[:, 1])
        open_weight = np.where(covered(demand.xy, cameras, args.radius), 0.0, demand.weight)
        grid = grid_points(
            [area_in_metres(d.id, d.geometry, projection) for d in inputs.districts], grid_m
        )
        matrix = coverage_matrix(demand.xy, grid.xy, args.radius)
        # The demand any grid site reaches, west to east, so that a block is a neighbourhood.
        rows = np.nonzero((open_weight > 0) & (np.diff(matrix.indptr) > 0))[0]
        reached = matrix[rows]
        order = np.argsort(demand.xy[rows, 0], kind="stable")
        full = plan.solution.model_demand * plan.solution.model_sites
        print(
            "\nspopt MCLP.from_cost_matrix (dense cost matrix) on blocks of neighbouring demand "
            f"points and the grid sites that reach them, budget 5; the full reduced model is "
            f"{plan.solution.model_demand:,} demand × {plan.solution.model_sites:,} sites"
        )
        per_entry = 0.0
        for size in args.blocks:
            entries, built, dense, sparse = spopt_dense_block(
                reached, open_weight[rows], order, size, 5
            )
            per_entry = built / entries
            same = "same" if abs(dense - sparse) < 1e-6 else "DIFFERENT"
            print(
                f"  {size:>5} demand × {entries // size:>5} sites: build {built:6.2f} s "
                f"({per_entry * 1e6:.1f} µs an entry); optimum dense {dense:g}, sparse "
                f"{sparse:g} ({same})"
            )
        estimate = full * per_entry
        print(
            f"  extrapolated to the full reduced model: {estimate:,.0f} s to build and "
            f"{full * 16 / 1e9:.1f} GB for its two dense float matrices; the sparse build "
            f"took {plan.solution.build_seconds:.2f} s (ratio "
            f"{estimate / max(plan.solution.build_seconds, 1e-3):,.0f}×)"
        )
        database.dispose()
    uptime()


if __name__ == "__main__":
    main()
