// @ts-check
// What the signed-in user's role may do, so the console does not offer what the server would
// refuse. The server decides (and answers 403 regardless); these sets mirror it: LIVE_VIEWERS
// in safecity/auth/roles.py, RECORDING_VIEWERS in safecity/video/playback_api.py,
// EXPORTER_ROLES in safecity/video/evidence.py, REGISTRY_EDITORS for analytics rules, HOLD_READERS / HOLD_PLACERS / HOLD_RELEASERS
// in safecity/video/holds.py, OCC and the note writers in safecity/ops/api.py, and the
// transitions' actors in safecity/ops/lifecycle.py.

/** @import { User } from "./api-types.js" */
/** @import { Transition } from "./ops-words.js" */

/** @typedef {User | null} Someone  the signed-in user, or nobody */

const LIVE_VIEWERS = new Set(["admin", "operator", "police_duty_officer", "akimat", "utility"]);
const RECORDING_VIEWERS = new Set(["admin", "operator", "police_duty_officer", "utility"]);
const EXPORTERS = new Set(["admin", "operator", "police_duty_officer"]);
const HOLD_READERS = new Set(["admin", "operator", "police_duty_officer"]);
const HOLD_PLACERS = HOLD_READERS;
const HOLD_RELEASERS = new Set(["admin", "operator"]);
const OCC = new Set(["admin", "operator"]);
const NOTE_WRITERS = new Set(["admin", "operator", "police_duty_officer"]);
// Incidents are cut to districts or a unit's queue; a utility company has neither.
const INCIDENT_READERS = new Set(["admin", "operator", "police_duty_officer", "akimat", "analyst"]);
// Forensic search: the API answers every role within its scope; the console offers it to
// those who work with events (an analyst's answers come without pictures).
const EVENT_SEARCHERS = new Set(["admin", "operator", "police_duty_officer", "analyst"]);
// The city's KPIs: KPI_READERS in safecity/insights/kpis/api.py (an akimat sees its district).
const KPI_READERS = new Set(["admin", "analyst", "akimat"]);
// Reports (safecity/reports/api.py): the server cuts them to a user's districts;
// the console offers them to those whose work they are.
const REPORT_MAKERS = new Set(["admin", "analyst", "akimat"]);
// Crime figures (safecity/insights/statistics_api.py answers every role within its districts;
// the console offers them to those whose work they are).
const FIGURE_READERS = new Set(["admin", "analyst", "akimat"]);
// Crime hotspots (HOTSPOT_READERS in safecity/insights/hotspots/api.py), each within their
// districts: those who plan with figures, and the police who patrol the hot spots.
const HOTSPOT_READERS = new Set(["admin", "analyst", "akimat", "police_duty_officer"]);
// Camera requests (safecity/planning/requests/workflow.py): READERS see them (operators
// too, through the API: their console is the OCC's), SUBMITTERS ask, DECIDERS decide.
const REQUEST_BOARD = new Set(["admin", "police_duty_officer", "akimat", "analyst"]);
const REQUEST_SUBMITTERS = new Set(["admin", "police_duty_officer", "akimat"]);
const REQUEST_DECIDERS = new Set(["admin"]);
// Analytics rules are changed by REGISTRY_EDITORS (safecity/analytics/api.py).
const RULE_EDITORS = new Set(["admin"]);
// PLACEMENT_PLANNERS in safecity/planning/placement/service.py: an akimat for its district.
const PLACEMENT_PLANNERS = new Set(["admin", "analyst", "akimat"]);

/**
 * @param {Set<string>} roles
 * @param {Someone} user
 */
function roleIn(roles, user) {
  return user !== null && roles.has(user.role);
}

/**
 * Where a user lands after signing in: an analyst works with figures (no live video), the
 * rest with the city map.
 * @param {Someone} user
 */
export function homePath(user) {
  return user?.role === "analyst" ? "/figures" : "/map";
}

/** @param {Someone} user */
export function mayWatchLive(user) {
  return roleIn(LIVE_VIEWERS, user);
}

/** @param {Someone} user */
export function mayWatchRecordings(user) {
  return roleIn(RECORDING_VIEWERS, user);
}

/** @param {Someone} user */
export function mayExportEvidence(user) {
  return roleIn(EXPORTERS, user);
}

/** @param {Someone} user */
export function mayReadHolds(user) {
  return roleIn(HOLD_READERS, user);
}

/** @param {Someone} user */
export function mayPlaceHolds(user) {
  return roleIn(HOLD_PLACERS, user);
}

/** @param {Someone} user */
export function mayReleaseHolds(user) {
  return roleIn(HOLD_RELEASERS, user);
}

/**
 * The OCC's work: the alert feed, opening incidents, dispatch, closing, SOP steps.
 * @param {Someone} user
 */
export function isOcc(user) {
  return roleIn(OCC, user);
}

/** @param {Someone} user */
export function isDutyOfficer(user) {
  return user?.role === "police_duty_officer";
}

/** @param {Someone} user */
export function mayReadIncidents(user) {
  return roleIn(INCIDENT_READERS, user);
}

/**
 * The "Events" screen: forensic search of what the analytics raised.
 * @param {Someone} user
 */
export function maySearchEvents(user) {
  return roleIn(EVENT_SEARCHERS, user);
}

/**
 * The "KPIs" screen: the programme's figures for a period.
 * @param {Someone} user
 */
export function mayReadKpis(user) {
  return roleIn(KPI_READERS, user);
}

/**
 * The "Figures" screen: crime counts, before and after, the control and its rate ratio.
 * @param {Someone} user
 */
export function mayReadFigures(user) {
  return roleIn(FIGURE_READERS, user);
}

/**
 * The "Hotspots" screen: crime hotspots and near repeats on the map.
 * @param {Someone} user
 */
export function mayReadHotspots(user) {
  return roleIn(HOTSPOT_READERS, user);
}

/** @param {Someone} user */
export function mayEditRules(user) {
  return roleIn(RULE_EDITORS, user);
}

/**
 * The "Placement" screen: where a budget of new cameras covers the most crime.
 * @param {Someone} user
 */
export function mayPlanPlacement(user) {
  return roleIn(PLACEMENT_PLANNERS, user);
}

/** @param {Someone} user */
export function mayWriteNotes(user) {
  return roleIn(NOTE_WRITERS, user);
}

/**
 * Whether this user may make a transition the lifecycle allows: the OCC's (dispatch, close)
 * for operators, the unit's (accept, reject, arrive, resolve) for the duty officer whose queue
 * the incident is in (the server shows an officer only their unit's incidents), any for admin.
 * @param {Someone} user
 * @param {Transition} transition
 */
export function mayMakeTransition(user, transition) {
  if (user?.role === "admin") return true;
  if (transition.actor === "occ") return roleIn(OCC, user);
  return isDutyOfficer(user);
}

/** @param {Someone} user */
export function mayMakeReports(user) {
  return roleIn(REPORT_MAKERS, user);
}

/**
 * The "Requests" screen: the camera requests board.
 * @param {Someone} user
 */
export function mayReadRequests(user) {
  return roleIn(REQUEST_BOARD, user);
}

/** @param {Someone} user */
export function maySubmitRequests(user) {
  return roleIn(REQUEST_SUBMITTERS, user);
}

/**
 * Review, approve, reject and mark installed: the programme office.
 * @param {Someone} user
 */
export function mayDecideRequests(user) {
  return roleIn(REQUEST_DECIDERS, user);
}
