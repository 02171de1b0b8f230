from app.core.enums import CaseState
from tests.factories import AgencyFactory


def test_register_gives_a_reference_and_a_transition(create_case):
    agency = AgencyFactory(code="UPTDPPA-3273")
    case = create_case(agency)
    assert case.state is CaseState.DITERIMA
    assert case.reference == "UPTDPPA-3273-2025-00001"
    second = create_case(agency)
    assert second.reference == "UPTDPPA-3273-2025-00002"
    assert case.victims[0].is_child is False
    assert case.victims[0].age_at_incident == 30


def test_draft_has_no_reference(create_case):
    case = create_case(AgencyFactory(), draft=True)
    assert case.reference is None and case.state is CaseState.DRAFT
