from safecity.auth.roles import Role, Scope, scope_for


def _scope(role: Role, **links: object) -> Scope:
    defaults: dict[str, object] = {
        "organization_id": None,
        "organization_district_id": None,
        "organization_is_city_wide": False,
        "police_unit_district_ids": None,
    }
    defaults.update(links)
    return scope_for(role, **defaults)  # type: ignore[arg-type]


def test_occ_roles_see_the_whole_city() -> None:
    for role in (Role.ADMIN, Role.OPERATOR, Role.ANALYST):
        assert _scope(role).city_wide


def test_duty_officer_sees_the_districts_of_their_unit() -> None:
    scope = _scope(Role.POLICE_DUTY_OFFICER, police_unit_district_ids=frozenset({3, 4}))
    assert not scope.city_wide
    assert scope.district_ids == {3, 4}
    assert scope.sees_district(3) and not scope.sees_district(5)


def test_district_akimat_sees_its_district_and_city_akimat_the_city() -> None:
    assert _scope(Role.AKIMAT, organization_district_id=2).district_ids == {2}
    assert _scope(Role.AKIMAT, organization_is_city_wide=True).city_wide


def test_utility_company_sees_only_what_it_owns() -> None:
    scope = _scope(Role.UTILITY, organization_id=7)
    assert scope.owner_organization_id == 7
    assert not scope.city_wide and not scope.district_ids


def test_missing_links_fail_closed() -> None:
    assert _scope(Role.POLICE_DUTY_OFFICER) == Scope.nothing()
    assert _scope(Role.AKIMAT) == Scope.nothing()
    assert _scope(Role.UTILITY) == Scope.nothing()
    assert not Scope.nothing().sees_site(1, None)


def test_site_is_visible_by_district_or_by_ownership() -> None:
    officer = _scope(Role.POLICE_DUTY_OFFICER, police_unit_district_ids=frozenset({3}))
    assert officer.sees_site(3, owner_organization_id=None)
    assert not officer.sees_site(4, owner_organization_id=7)
    company = _scope(Role.UTILITY, organization_id=7)
    assert company.sees_site(4, owner_organization_id=7)
    assert not company.sees_site(4, owner_organization_id=8)
    assert not company.sees_site(4, owner_organization_id=None)
