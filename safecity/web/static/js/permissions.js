// What the signed-in user's role may do with a camera's video, so the console does not offer
// what the server would refuse. The server decides (and answers 403 regardless); these sets
// mirror it: LIVE_VIEWERS in safecity/auth/roles.py, RECORDING_VIEWERS in
// safecity/video/playback_api.py, EXPORTER_ROLES in
// safecity/video/evidence.py, HOLD_READERS / HOLD_PLACERS / HOLD_RELEASERS in
// safecity/video/holds.py.

const LIVE_VIEWERS = new Set(["admin", "operator", "police_duty_officer", "akimat", "utility"]);
const RECORDING_VIEWERS = new Set(["admin", "operator", "police_duty_officer", "utility"]);
const EXPORTERS = new Set(["admin", "operator", "police_duty_officer"]);
const HOLD_READERS = new Set(["admin", "operator", "police_duty_officer"]);
const HOLD_PLACERS = HOLD_READERS;
const HOLD_RELEASERS = new Set(["admin", "operator"]);

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
