// @ts-check
// The shapes of what the API answers, as the console reads them: JSDoc types for the type
// checker only (`tsc -p tsconfig.json`). Nothing imports this module at run time; the other
// modules name its types with `@import`. Each type mirrors a response model in safecity/ (named
// beside it) and lists the fields the console uses. Moments are ISO 8601 strings.

/**
 * A user as /api/auth/me describes them (UserOut in safecity/auth/api.py).
 * @typedef {object} User
 * @property {number} id
 * @property {string} username
 * @property {string} full_name
 * @property {string} role
 * @property {string} role_label
 * @property {string | null} organization
 * @property {boolean} city_wide
 * @property {number[]} district_ids
 */

/**
 * What /api/console says about the installation (Installation in safecity/api/system.py).
 * @typedef {object} Installation
 * @property {string} city_name
 * @property {string} timezone
 * @property {string} version
 * @property {string} license
 */

/**
 * A district's outline: a GeoJSON Polygon or MultiPolygon, WGS 84. A polygon is its rings
 * (the outer one, then its holes), a ring a list of [lon, lat].
 * @typedef {Array<Array<[lon: number, lat: number]>>} PolygonRings
 * @typedef {{ type: "Polygon", coordinates: PolygonRings } | { type: "MultiPolygon", coordinates: PolygonRings[] }} Geometry
 */

/**
 * (DistrictOut in safecity/city/schemas.py)
 * @typedef {object} District
 * @property {number} id
 * @property {string} code
 * @property {string} name
 * @property {Geometry} geometry
 * @property {number} camera_count
 * @property {boolean} in_scope
 */

/**
 * (SiteSummary in safecity/city/schemas.py)
 * @typedef {object} SiteSummary
 * @property {number} id
 * @property {string} code
 * @property {string} name
 * @property {string} kind
 */

/**
 * (SiteOut)
 * @typedef {SiteSummary & { camera_count: number }} Site
 */

/**
 * What ingest last measured of a camera's stream (StreamHealth).
 * @typedef {object} StreamHealth
 * @property {string} status
 * @property {string | null} detail
 * @property {number} fps
 * @property {number} bitrate_kbps
 * @property {number | null} width
 * @property {number | null} height
 * @property {string | null} codec
 * @property {string | null} last_packet_at
 * @property {string | null} connected_since
 * @property {number} reconnects
 * @property {number} gaps
 * @property {boolean} recording
 * @property {AnalyticsFigures | null} [analytics]
 * @property {string} updated_at
 */

/**
 * What a camera's analytics last measured (StreamHealth.analytics): frames per second decoded,
 * analysed and dropped, detector milliseconds per call, the share of analysed frames that ran
 * the detector and of the picture that moved (0..1), detector regions per frame.
 * @typedef {object} AnalyticsFigures
 * @property {number} [decode_fps]
 * @property {number} [analysed_fps]
 * @property {number} [skipped_fps]
 * @property {number} [detector_ms]
 * @property {number} [detector_share]
 * @property {number} [motion_share]
 * @property {number} [regions]
 */

/**
 * A camera of the registry (CameraOut, and CameraDetail for one camera).
 * @typedef {object} Camera
 * @property {number} id
 * @property {string} code
 * @property {string} name
 * @property {string | null} address
 * @property {number} latitude
 * @property {number} longitude
 * @property {number} district_id
 * @property {string} district_name
 * @property {SiteSummary | null} site
 * @property {string} status
 * @property {string} health
 * @property {string | null} last_seen_at
 * @property {string | null} vendor
 * @property {string | null} model
 * @property {string | null} firmware
 * @property {string | null} installed_at
 * @property {string} [main_stream_url]
 * @property {string | null} [sub_stream_url]
 * @property {StreamHealth | null} [stream]
 */

/**
 * A camera as the map draws it (CameraPoint).
 * @typedef {object} CameraPoint
 * @property {number} id
 * @property {string} code
 * @property {string} name
 * @property {number} lat
 * @property {number} lon
 * @property {string} status
 * @property {string} health
 * @property {number} district_id
 */

/**
 * A page of a list that counts its rows (CameraPage, SitePage, EvidencePage).
 * @template T
 * @typedef {object} Page
 * @property {T[]} items
 * @property {number} total
 * @property {number} [limit]
 * @property {number} [offset]
 */

/**
 * (AlertOut in safecity/ops/api.py)
 * @typedef {object} Alert
 * @property {number} id
 * @property {string} source
 * @property {string} kind
 * @property {string} title
 * @property {number} priority
 * @property {string} status
 * @property {number | null} camera_id
 * @property {number | null} district_id
 * @property {number | null} latitude
 * @property {number | null} longitude
 * @property {number} count
 * @property {string} first_at
 * @property {string} last_at
 * @property {number | null} incident_id
 * @property {Record<string, unknown>} [details]  an analytics alert's `event_id` among them
 * @property {string | null} [thumbnail_url]  the analytics event's snapshot (a JPEG)
 */

/**
 * (IncidentOut in safecity/ops/api.py)
 * @typedef {object} Incident
 * @property {number} id
 * @property {string} number
 * @property {string} type_code
 * @property {number} priority
 * @property {string} status
 * @property {number} latitude
 * @property {number} longitude
 * @property {number | null} district_id
 * @property {number | null} police_unit_id
 * @property {string} opened_by
 * @property {string} opened_at
 * @property {string | null} dispatched_at
 * @property {string | null} accepted_at
 * @property {string | null} on_scene_at
 * @property {string | null} resolved_at
 * @property {string | null} closed_at
 * @property {string | null} summary
 * @property {number[]} camera_ids
 * @property {string[]} allowed
 */

/**
 * One entry of an incident's timeline (EventOut).
 * @typedef {object} IncidentEvent
 * @property {number} id
 * @property {string} at
 * @property {string} actor
 * @property {string} kind
 * @property {string | null} from_status
 * @property {string | null} to_status
 * @property {string | null} text
 * @property {Record<string, any>} details
 */

/**
 * One step of an incident's checklist (StepOut).
 * @typedef {object} SopStep
 * @property {number} index
 * @property {string} text
 * @property {string} state
 * @property {string | null} by
 * @property {string | null} at
 * @property {string | null} reason
 */

/**
 * (IncidentDetailOut)
 * @typedef {Incident & { events: IncidentEvent[], sop: SopStep[], alert_ids: number[] }} IncidentDetail
 */

/**
 * (IncidentTypeOut in safecity/ops/incident_types/api.py)
 * @typedef {object} IncidentType
 * @property {string} code
 * @property {string} name
 * @property {number} default_priority
 * @property {string[]} sop
 * @property {boolean} active
 */

/**
 * (PoliceUnitOut in safecity/city/schemas.py)
 * @typedef {object} PoliceUnit
 * @property {number} id
 * @property {string} code
 * @property {string} name
 * @property {boolean} is_fallback
 * @property {number[]} district_ids
 */

/**
 * A file attached to an incident (AttachmentOut).
 * @typedef {object} Attachment
 * @property {number} id
 * @property {string} name
 * @property {number} bytes
 * @property {string | null} description
 * @property {string} uploaded_by
 * @property {string} uploaded_at
 * @property {boolean} deleted
 * @property {string | null} deleted_by
 * @property {string | null} deletion_reason
 * @property {string} download_url
 */

/**
 * A stretch of recordings linked to an incident (ClipOut).
 * @typedef {object} Clip
 * @property {number} id
 * @property {number} camera_id
 * @property {string} camera_code
 * @property {string} start
 * @property {string} end
 * @property {string | null} note
 * @property {string} linked_by
 * @property {string} linked_at
 * @property {boolean} linked
 * @property {string | null} unlinked_by
 * @property {string | null} unlink_reason
 * @property {string} playback_url
 * @property {boolean} recorded
 * @property {Span[]} gaps
 */

/**
 * @typedef {object} Span
 * @property {string} start
 * @property {string} end
 */

/**
 * (OperatorOut in safecity/ops/shifts_api.py)
 * @typedef {object} ShiftOperator
 * @property {string} username
 * @property {string | null} left_at
 */

/**
 * (HandoverOut)
 * @typedef {object} Handover
 * @property {number} id
 * @property {string} written_at
 * @property {string} written_by
 * @property {string} note
 * @property {number} open_alert_count
 * @property {number} open_incident_count
 * @property {string | null} acknowledged_at
 */

/**
 * (ShiftDetailOut)
 * @typedef {object} Shift
 * @property {number} id
 * @property {string} started_at
 * @property {string} supervisor
 * @property {ShiftOperator[]} operators
 * @property {Handover | null} received_handover
 */

/**
 * (EscalationOut)
 * @typedef {object} Escalation
 * @property {number} id
 * @property {string} stage
 * @property {number | null} alert_id
 * @property {number | null} incident_id
 * @property {string | null} number
 * @property {number} priority
 * @property {string} escalated_at
 * @property {string} sent_to
 */

/**
 * A legal hold on a camera's recordings (HoldOut in safecity/video/holds_api.py).
 * @typedef {object} Hold
 * @property {number} id
 * @property {string} start
 * @property {string} end
 * @property {string} kind
 * @property {string} reason
 * @property {string | null} reference
 * @property {string | null} placed_by
 * @property {string} placed_at
 * @property {boolean} active
 * @property {string | null} released_at
 * @property {string | null} released_by
 * @property {string | null} release_reason
 */

/**
 * A signed evidence package (EvidenceOut in safecity/video/evidence_api.py).
 * @typedef {object} EvidenceRecord
 * @property {string} package_id
 * @property {string} starts_at
 * @property {string} ends_at
 * @property {string} reason
 * @property {string} exported_by
 * @property {string} exported_at
 * @property {number} bytes
 * @property {number} clip_bytes
 * @property {string} key_fingerprint
 * @property {string} manifest_sha256
 * @property {number | null} hold_id
 * @property {string} download_url
 */

/**
 * A day of a camera's recordings (Timeline in safecity/video/playback_api.py).
 * @typedef {object} RecordingDay
 * @property {string} start
 * @property {string} end
 * @property {Span[]} ranges
 * @property {Span[]} gaps
 * @property {number} recorded_seconds
 * @property {string | null} first_recording
 * @property {string | null} [recording_since]
 */

/**
 * A point of a zone or line in shares of the picture: [x, y], 0..1, origin at the top left.
 * @typedef {[x: number, y: number]} SharePoint
 */

/**
 * A weekly window of a rule (WatchWindow in safecity/city/schedule.py), in city time.
 * @typedef {object} WatchWindow
 * @property {string[]} days  mon … sun
 * @property {string} start  "HH:MM" or "HH:MM:SS"
 * @property {string} end
 */

/**
 * An analytics rule (Rule in safecity/analytics/rules/definitions.py): the fields of every
 * kind, each present on the kinds that have it.
 * @typedef {object} Rule
 * @property {string} kind  intrusion, line_crossing, loitering, crowd, vehicle_stopped, object_left, tamper
 * @property {string} name
 * @property {boolean} [enabled]
 * @property {WatchWindow[]} [schedule]
 * @property {SharePoint[]} [zone]
 * @property {[SharePoint, SharePoint]} [line]
 * @property {string} [direction]  any, forward, backward
 * @property {string[]} [classes]
 * @property {number} [seconds]
 * @property {number} [count]
 * @property {string[]} [checks]
 * @property {string} [sensitivity]
 */

/**
 * A camera's analytics document (CameraRulesOut in safecity/analytics/schemas.py).
 * @typedef {object} CameraRules
 * @property {number} camera_id
 * @property {Rule[]} rules
 * @property {SharePoint[][]} masks
 * @property {number | null} site_id
 * @property {Rule[]} site_rules
 */

/**
 * An event an analytics rule raised (EventOut in safecity/analytics/schemas.py).
 * @typedef {object} AnalyticsEvent
 * @property {number} id
 * @property {number} camera_id
 * @property {string} camera_code
 * @property {string} camera_name
 * @property {number | null} site_id
 * @property {number} district_id
 * @property {string} at
 * @property {string} started_at
 * @property {number | null} rule_id
 * @property {string} rule_name
 * @property {string} kind
 * @property {string | null} object_class
 * @property {number | null} track_id
 * @property {number} confidence
 * @property {string} clip_start
 * @property {string} clip_end
 * @property {number | null} alert_id
 * @property {string | null} snapshot_url  null: none kept, or not for this role
 * @property {string} recording_url
 */

/**
 * One series of a camera's counts (CountSeriesOut).
 * @typedef {object} CountSeries
 * @property {string} scope
 * @property {string} scope_name
 * @property {string} object_class
 * @property {string} direction
 * @property {number[]} counts  one per bin
 */

/**
 * A camera's counts in bins (CountsOut in safecity/analytics/schemas.py).
 * @typedef {object} Counts
 * @property {number} camera_id
 * @property {string} bin
 * @property {string[]} bins  each bin's start
 * @property {string} end
 * @property {CountSeries[]} series
 */

export {};

/**
 * A camera installation request (RequestOut in safecity/planning/requests/schemas.py).
 * @typedef {object} CameraRequest
 * @property {number} id
 * @property {string} number
 * @property {"submitted" | "under_review" | "approved" | "rejected" | "installed"} status
 * @property {"low" | "normal" | "high" | "urgent"} urgency
 * @property {number} organization_id
 * @property {string} organization
 * @property {string} organization_code
 * @property {number} district_id
 * @property {string} district
 * @property {number | null} site_id
 * @property {string | null} site_code
 * @property {string | null} site_name
 * @property {number | null} latitude
 * @property {number | null} longitude
 * @property {string | null} address
 * @property {string} justification
 * @property {string | null} decision_reason
 * @property {number | null} camera_id
 * @property {string | null} camera_code
 * @property {string | null} submitted_by
 * @property {string | null} decided_by
 * @property {string} submitted_at
 * @property {string | null} decided_at
 * @property {string | null} installed_at
 * @property {string[]} allowed  the moves the workflow allows from here
 */

/**
 * (RequestPage)
 * @typedef {object} CameraRequestPage
 * @property {CameraRequest[]} items
 * @property {number} total
 * @property {Record<string, number>} by_status
 */
