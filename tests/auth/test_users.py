import pytest
from argon2 import extract_parameters
from sqlalchemy import func, select

from safecity.auth.models import User
from safecity.auth.passwords import DUMMY_HASH, hash_password, verify_password
from safecity.auth.roles import Role
from safecity.auth.users import UserError, add_user
from safecity.city.models import OrganizationKind, PoliceUnit
from safecity.store.engine import Database
from tests import factories as f


@pytest.mark.usefixtures("production_password_cost")
def test_added_user_can_sign_in_with_an_argon2_hash_at_the_production_cost(
    database: Database,
) -> None:
    with database.session() as session:
        user = add_user(
            session,
            username="duty.one",
            full_name="Duty One",
            role=Role.OPERATOR,
            password="long-enough-1",
        )
        assert user.password_hash.startswith("$argon2id$")
        cost = extract_parameters(user.password_hash)
        assert (cost.memory_cost, cost.time_cost, cost.parallelism) == (64 * 1024, 3, 4)
        assert verify_password(user.password_hash, "long-enough-1")
        assert not verify_password(user.password_hash, "long-enough-2")


@pytest.mark.usefixtures("production_password_cost")
def test_an_unknown_user_costs_a_login_as_much_as_a_known_one() -> None:
    # The hash verified when nobody has that username is made as new passwords are.
    assert extract_parameters(DUMMY_HASH) == extract_parameters(hash_password("long-enough-1"))
    assert not verify_password(None, "not-a-password")


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"username": "Bad Name"}, "a username is"),
        ({"password": "short"}, "at least 8 characters"),
        ({"role": Role.UTILITY}, "must belong to a utility organization"),
        ({"role": Role.UTILITY, "organization_code": "akimat-west"}, "must belong to a utility"),
        ({"role": Role.AKIMAT, "organization_code": "nope"}, "no organization with code 'nope'"),
        ({"role": Role.POLICE_DUTY_OFFICER}, "needs a police unit"),
        ({"police_unit_code": "unit-1"}, "only a police duty officer has a police unit"),
        (
            {
                "role": Role.POLICE_DUTY_OFFICER,
                "police_unit_code": "unit-1",
                "organization_code": "police-north",
            },
            "belongs to the organization of their police unit",
        ),
        ({"password": "x" * 257}, "at most 256 characters"),
        ({"role": Role.POLICE_DUTY_OFFICER, "police_unit_code": "ghost"}, "no police unit"),
        ({"username": "taken"}, "is taken"),
    ],
)
def test_add_user_refuses_with_a_reason_and_writes_nothing(
    database: Database, fields: dict[str, object], reason: str
) -> None:
    with database.session() as session:
        west = f.add_district(session, "west", f.WEST)
        f.add_organization(session, "akimat-west", OrganizationKind.AKIMAT, west)
        police = f.add_organization(session, "police-dept", OrganizationKind.POLICE)
        f.add_organization(session, "police-north", OrganizationKind.POLICE)
        session.add(PoliceUnit(code="unit-1", name="Unit 1", organization=police))
        f.add_user(session, "taken", Role.ADMIN)
    arguments: dict[str, object] = {
        "username": "newcomer",
        "full_name": "New Comer",
        "role": Role.ADMIN,
        "password": "long-enough-1",
    }
    arguments.update(fields)
    with pytest.raises(UserError, match=reason), database.session() as session:
        add_user(session, **arguments)  # type: ignore[arg-type]
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 1


def test_duty_officer_takes_the_police_organization_of_their_unit(database: Database) -> None:
    with database.session() as session:
        police = f.add_organization(session, "police-dept", OrganizationKind.POLICE)
        session.add(PoliceUnit(code="unit-1", name="Unit 1", organization=police))
        session.flush()
        officer = add_user(
            session,
            username="officer",
            full_name="Officer",
            role=Role.POLICE_DUTY_OFFICER,
            password="long-enough-1",
            police_unit_code="unit-1",
        )
        assert officer.organization is police
