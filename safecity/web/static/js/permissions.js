// What the signed-in user's role may do, so the console does not offer what the server would
// refuse. The server decides (and answers 403 regardless); these sets mirror it: LIVE_VIEWERS
// in safecity/auth/roles.py, RECORDING_VIEWERS in safecity/video/playback_api.py,
// EXPORTER_ROLES in safecity/video/evidence.py, HOLD_READERS / HOLD_PLACERS / HOLD_RELEASERS
// in safecity/video/holds.py, OCC and the note writers in safecity/ops/api.py, and the
// transitions' actors in safecity/ops/lifecycle.py.

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

export function mayWatchLive(user) {
  return LIVE_VIEWERS.has(user?.role);
}

export function mayWatchRecordings(user) {
  return RECORDING_VIEWERS.has(user?.role);
}

export function mayExportEvidence(user) {
  return EXPORTERS.has(user?.role);
}

export function mayReadHolds(user) {
  return HOLD_READERS.has(user?.role);
}

export function mayPlaceHolds(user) {
  return HOLD_PLACERS.has(user?.role);
}

export function mayReleaseHolds(user) {
  return HOLD_RELEASERS.has(user?.role);
}

/** The OCC's work: the alert feed, opening incidents, dispatch, closing, SOP steps. */
export function isOcc(user) {
  return OCC.has(user?.role);
}

export function isDutyOfficer(user) {
  return user?.role === "police_duty_officer";
}

export function mayReadIncidents(user) {
  return INCIDENT_READERS.has(user?.role);
}

export function mayWriteNotes(user) {
  return NOTE_WRITERS.has(user?.role);
}

/**
 * Whether this user may make a transition the lifecycle allows: the OCC's (dispatch, close)
 * for operators, the unit's (accept, reject, arrive, resolve) for the duty officer whose queue
 * the incident is in (the server shows an officer only their unit's incidents), any for admin.
 */
export function mayMakeTransition(user, transition) {
  if (user?.role === "admin") return true;
  if (transition.actor === "occ") return OCC.has(user?.role);
  return isDutyOfficer(user);
}
