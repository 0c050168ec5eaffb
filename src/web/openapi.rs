//! The OpenAPI description served at `/api/v1/openapi.json`.

use serde_json::{json, Value};

/// The API description.
pub fn document() -> Value {
    let error = json!({"$ref": "#/components/schemas/Error"});
    let ack = json!({"$ref": "#/components/schemas/Ack"});
    let intake_responses = json!({
        "201": {"description": "stored (committed) — 已受理", "content": {"application/json": {"schema": ack}}},
        "200": {"description": "re-sent: the first report is returned", "content": {"application/json": {"schema": ack}}},
        "400": {"description": "invalid submission", "content": {"application/json": {"schema": error}}},
        "401": {"description": "missing or bad token", "content": {"application/json": {"schema": error}}},
        "413": {"description": "body too large", "content": {"application/json": {"schema": error}}},
        "503": {"description": "not stored; retry", "content": {"application/json": {"schema": error}}}
    });
    let mut doc = json!({
        "openapi": "3.0.3",
        "info": {"title": "tipline", "version": env!("CARGO_PKG_VERSION"),
                 "description": "安全生产培训考试举报受理与案件系统 API"},
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "machines: a token from `tipline token add`"},
                "session": {"type": "apiKey", "in": "cookie", "name": "tipline_session",
                    "description": "people: the cookie set by POST /api/v1/session; unsafe methods also need the session's CSRF token in the X-CSRF-Token header or the csrf_token form field (else 403 csrf_failed)"}},
            "schemas": {
                "Error": {"type": "object", "required": ["code", "message", "message_en"], "properties": {
                    "code": {"type": "string"}, "message": {"type": "string"}, "message_en": {"type": "string"}}},
                "Login": {"type": "object", "required": ["name", "password"], "properties": {
                    "name": {"type": "string"}, "password": {"type": "string", "format": "password"}}},
                "Session": {"type": "object", "required": ["name", "role", "jurisdiction"], "properties": {
                    "name": {"type": "string"}, "role": {"type": "string", "enum": ["operator", "officer", "leader", "admin"]},
                    "jurisdiction": {"type": "string"}, "jurisdiction_name": {"type": "string", "nullable": true},
                    "csrf_token": {"type": "string", "nullable": true, "description": "null for bearer requests"}}},
                "Exclusion": {"type": "object", "properties": {
                    "case_id": {"type": "integer"}, "case_no": {"type": "string"}, "user_id": {"type": "integer"},
                    "user": {"type": "string"}, "report_id": {"type": "integer", "nullable": true},
                    "matched": {"type": "string"}, "at": {"type": "string", "format": "date-time"}}},
                "Ack": {"type": "object", "required": ["report_id", "case_id", "case_no", "outcome"], "properties": {
                    "report_id": {"type": "integer"}, "case_id": {"type": "integer"}, "case_no": {"type": "string"},
                    "outcome": {"type": "string", "enum": ["new", "resent", "same_message"]}}},
                "Envelope": {"type": "object", "required": ["channel", "external_id", "received_at", "text"], "properties": {
                    "channel": {"type": "string", "enum": ["hotline_12350", "hotline_12345", "web_form", "email"]},
                    "external_id": {"type": "string"}, "received_at": {"type": "string", "format": "date-time"},
                    "reporter": {"type": "object", "properties": {"name": {"type": "string"}, "phone": {"type": "string"},
                        "email": {"type": "string"}, "id_number": {"type": "string"}, "anonymous": {"type": "boolean"}}},
                    "subject": {"type": "object", "properties": {"name": {"type": "string"}, "kind": {"type": "string"},
                        "address": {"type": "string"}}},
                    "address": {"type": "string"}, "title": {"type": "string"}, "text": {"type": "string"},
                    "deadline": {"type": "string", "format": "date-time"}}}
            }
        },
        "security": [{"bearer": []}, {"session": []}],
        "paths": {
            "/api/v1/reports": {"post": {"summary": "Submit a report (envelope)", "requestBody": {"required": true,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Envelope"}}}},
                "responses": intake_responses}},
            "/api/v1/channels/12345/orders": {"post": {"summary": "Push a 12345 work order", "responses": intake_responses}},
            "/api/v1/channels/12350/calls": {"post": {"summary": "Log a 12350 call", "responses": intake_responses}},
            "/api/v1/callers/{phone}/calls": {"get": {"summary": "A caller's earlier reports, found by the blind index of the phone (operator: the calls it logged; others: cases in scope); no identity returned",
                "parameters": [{"name": "phone", "in": "path", "required": true, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "total, calls (case number, date, state, subject)"}}}},
            "/api/v1/reports/{id}": {"get": {"summary": "A report with its decisions (no reporter identity)",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
                "responses": {"200": {"description": "the report"}, "404": {"description": "not found"}}}},
            "/api/v1/cases/{id}": {"get": {"summary": "A case with its reports and events",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
                "responses": {"200": {"description": "the case"}, "404": {"description": "not found"}}}},
            "/api/v1/search": {"get": {"summary": "Full-text search with filters and facets",
                "responses": {"200": {"description": "hits, facets, total"}, "400": {"description": "bad query"}}}},
            "/api/v1/session": {
                "post": {"security": [], "summary": "Log in (name + password, JSON or form): sets the session cookie (HttpOnly, SameSite=Strict)",
                    "requestBody": {"required": true, "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Login"}},
                        "application/x-www-form-urlencoded": {"schema": {"$ref": "#/components/schemas/Login"}}}},
                    "responses": {"200": {"description": "logged in; Set-Cookie tipline_session", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Session"}}}},
                        "400": {"description": "name or password missing", "content": {"application/json": {"schema": error}}},
                        "401": {"description": "wrong name or password (the same answer for both)", "content": {"application/json": {"schema": error}}},
                        "429": {"description": "too many failed logins for the name or the client address; see Retry-After", "content": {"application/json": {"schema": error}}}}},
                "get": {"summary": "Who am I: name, role, jurisdiction and its name, the session's CSRF token",
                    "responses": {"200": {"description": "the user", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Session"}}}},
                        "401": {"description": "no live session or token", "content": {"application/json": {"schema": error}}}}},
                "delete": {"summary": "Log out (ends the session, removes the cookie; needs the CSRF token)",
                    "responses": {"200": {"description": "logged out"}, "401": {"description": "no live session"},
                        "403": {"description": "missing or wrong CSRF token", "content": {"application/json": {"schema": error}}}}}},
            "/api/v1/admin/exclusions": {"get": {"summary": "Conflicts of interest: the users excluded from cases (admin only)",
                "responses": {"200": {"description": "the exclusions in the admin's subtree", "content": {"application/json": {"schema": {
                        "type": "object", "properties": {"total": {"type": "integer"},
                        "exclusions": {"type": "array", "items": {"$ref": "#/components/schemas/Exclusion"}}}}}}},
                    "403": {"description": "not an administrator", "content": {"application/json": {"schema": error}}}}}},
            "/api/v1/stats": {"get": {"summary": "Statistics of the user's subtree: 受理量, 按期签收率, 按期办结率, 属实率, 重复举报率, trend against the previous period",
                "parameters": [
                    {"name": "from", "in": "query", "schema": {"type": "string"}, "description": "2024-01 or 2024-01-15 (default: 12 months to this one)"},
                    {"name": "to", "in": "query", "schema": {"type": "string"}, "description": "2024-06 (whole month) or 2024-06-30, inclusive"},
                    {"name": "by", "in": "query", "schema": {"type": "string", "enum": ["month", "jurisdiction", "channel", "category", "subject_kind"]}},
                    {"name": "jurisdiction", "in": "query", "schema": {"type": "string"}, "description": "a division code inside the user's subtree"},
                    {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["json", "xlsx", "svg"]}, "description": "or Accept: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}],
                "responses": {"200": {"description": "rows and total (JSON), the same table as XLSX, or an SVG chart"},
                    "400": {"description": "bad parameter (bad_stats_query)", "content": {"application/json": {"schema": error}}},
                    "404": {"description": "jurisdiction outside the user's subtree"}}}},
            "/api/v1/reports/monthly.xlsx": {"get": {"summary": "渝考发〔2022〕5号 附件2–4 progress tables of a jurisdiction for a month (leader, admin)",
                "parameters": [
                    {"name": "month", "in": "query", "schema": {"type": "string"}, "description": "2024-05 (default: last month)"},
                    {"name": "jurisdiction", "in": "query", "schema": {"type": "string"}, "description": "division code (default: the user's)"}],
                "responses": {"200": {"description": "XLSX, three sheets", "content": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}},
                    "400": {"description": "bad month or jurisdiction", "content": {"application/json": {"schema": error}}},
                    "403": {"description": "not a leader or administrator"},
                    "404": {"description": "jurisdiction outside the user's subtree"}}}},
            "/healthz": {"get": {"security": [], "summary": "Liveness", "responses": {"200": {"description": "alive"}}}},
            "/readyz": {"get": {"security": [], "summary": "Readiness (database reachable)", "responses": {"200": {"description": "ready"}, "503": {"description": "not ready"}}}},
            "/metrics": {"get": {"security": [], "summary": "Prometheus metrics", "responses": {"200": {"description": "text exposition"}}}}
        }
    });
    add_chain(&mut doc, &error);
    doc
}

/// The 12345 chain: replies to the platform, extension requests (延期) and their decisions.
fn add_chain(doc: &mut Value, error: &Value) {
    let case_id =
        json!({"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}});
    let failure = |what: &str| json!({"description": what, "content": {"application/json": {"schema": error}}});
    doc["components"]["schemas"]["PlatformReply"] = json!({"type": "object",
        "description": "A reply to the 12345 platform; pushed to [platform_12345] push_url with header Idempotency-Key = order_no:step:seq",
        "required": ["seq", "order_no", "step", "text", "handler_unit", "time"], "properties": {
            "seq": {"type": "integer"}, "order_no": {"type": "string", "description": "工单编号"},
            "step": {"type": "string", "enum": ["signed_for", "sent_back", "transferred", "extension_requested", "replied", "closed"]},
            "step_label": {"type": "string", "description": "签收, 退回, 转办, 延期申请, 办结回复, 办结"},
            "text": {"type": "string", "description": "办结回复 carries the finding and the actions; reporter identity masked"},
            "handler_unit": {"type": "string", "description": "承办单位"},
            "time": {"type": "string", "format": "date-time"}}});
    doc["components"]["schemas"]["Extension"] = json!({"type": "object", "properties": {
        "case_id": {"type": "integer"}, "n": {"type": "integer"},
        "state": {"type": "string", "enum": ["pending", "approved", "denied"]},
        "days": {"type": "integer", "description": "working days"}, "reason": {"type": "string"},
        "requested_by": {"type": "string"}, "requested_at": {"type": "string"},
        "decided_by": {"type": "string"}, "decided_at": {"type": "string"}, "decision_reason": {"type": "string"}}});
    let paths = &mut doc["paths"];
    paths["/api/v1/channels/12345/replies"] = json!({"get": {"summary": "Replies owed to the 12345 platform after event `since` (in scope)",
        "parameters": [{"name": "since", "in": "query", "schema": {"type": "integer"}},
                       {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 1000}}],
        "responses": {"200": {"description": "{replies: [PlatformReply], next_since}", "content": {"application/json": {"schema": {
            "type": "object", "properties": {"replies": {"type": "array", "items": {"$ref": "#/components/schemas/PlatformReply"}},
            "next_since": {"type": "integer"}}}}}}}}});
    paths["/api/v1/cases/{id}/extensions"] = json!({
        "post": {"summary": "延期申请: an officer asks for more working days (a 12345 case also replies to the platform)",
            "parameters": [case_id],
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object",
                "required": ["days", "reason"], "properties": {"days": {"type": "integer", "minimum": 1, "maximum": 60},
                "reason": {"type": "string"}}}}}},
            "responses": {"201": {"description": "{case_id, n, state: pending, days}"},
                "400": failure("bad days or no reason"), "403": failure("not an officer"),
                "404": failure("case not found or out of scope"),
                "409": failure("a request is pending, or the case's state has no deadline")}},
        "get": {"summary": "The extension requests of a case", "parameters": [case_id],
            "responses": {"200": {"description": "{extensions: [Extension]}"}, "404": failure("not found")}}});
    paths["/api/v1/cases/{id}/extensions/{n}/decision"] = json!({"post": {
        "summary": "A leader of the handling jurisdiction (or above) approves or denies; approval moves the current and later deadlines",
        "parameters": [case_id, {"name": "n", "in": "path", "required": true, "schema": {"type": "integer"}}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object",
            "required": ["approve"], "properties": {"approve": {"type": "boolean"},
            "reason": {"type": "string", "description": "required to deny"}}}}}},
        "responses": {"200": {"description": "{extension: Extension, case}"}, "400": failure("a denial without a reason"),
            "403": failure("not a leader of the handling jurisdiction or above"),
            "404": failure("case or request not found, or out of scope"), "409": failure("already decided")}}});
}
