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
    json!({
        "openapi": "3.0.3",
        "info": {"title": "tipline", "version": env!("CARGO_PKG_VERSION"),
                 "description": "安全生产培训考试举报受理与案件系统 API"},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "required": ["code", "message", "message_en"], "properties": {
                    "code": {"type": "string"}, "message": {"type": "string"}, "message_en": {"type": "string"}}},
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
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/reports": {"post": {"summary": "Submit a report (envelope)", "requestBody": {"required": true,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Envelope"}}}},
                "responses": intake_responses}},
            "/api/v1/channels/12345/orders": {"post": {"summary": "Push a 12345 work order", "responses": intake_responses}},
            "/api/v1/channels/12350/calls": {"post": {"summary": "Log a 12350 call", "responses": intake_responses}},
            "/api/v1/reports/{id}": {"get": {"summary": "A report with its decisions (no reporter identity)",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
                "responses": {"200": {"description": "the report"}, "404": {"description": "not found"}}}},
            "/api/v1/cases/{id}": {"get": {"summary": "A case with its reports and events",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
                "responses": {"200": {"description": "the case"}, "404": {"description": "not found"}}}},
            "/api/v1/search": {"get": {"summary": "Full-text search with filters and facets",
                "responses": {"200": {"description": "hits, facets, total"}, "400": {"description": "bad query"}}}},
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
    })
}
