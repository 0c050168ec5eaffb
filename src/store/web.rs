//! What the web pages need beyond the API's reads: the form-signing key, an anonymous reporter's
//! own report behind a receipt code, and additions (text and files) made with that code.

use super::{now_text, Attachment, Store};
use sqlx::Row;

/// An anonymous reporter's own report, as its receipt code shows it (never another report of the
/// case: those belong to other reporters).
#[derive(Debug, Clone)]
pub struct ReceiptReport {
    /// The report the receipt was given for.
    pub report_id: i64,
    /// Its case.
    pub case_id: i64,
    /// When it arrived (RFC 3339).
    pub received_at: String,
    /// The text as received.
    pub text: String,
    /// The place as given.
    pub address: Option<String>,
    /// The subject as named by the reporter.
    pub subject_name: Option<String>,
    /// Files sent with the report: (name, size, refused reason).
    pub files: Vec<FileRow>,
    /// What the reporter added since, oldest first.
    pub additions: Vec<Addition>,
}

/// A stored file as listed to its sender (no bytes).
#[derive(Debug, Clone)]
pub struct FileRow {
    /// File name.
    pub name: String,
    /// Size in bytes.
    pub size: i64,
    /// Why it was refused, if it was.
    pub rejected: Option<String>,
}

/// Information an anonymous reporter added with the receipt code.
#[derive(Debug, Clone)]
pub struct Addition {
    /// When (RFC 3339).
    pub at: String,
    /// The text.
    pub text: String,
    /// Files added with it.
    pub files: Vec<FileRow>,
}

impl Store {
    /// The deployment's key for signing form tokens: made once by whichever node asks first, then
    /// shared through the database so that a form served by one node posts to any other.
    pub async fn web_key(&self, name: &str, fresh: &str) -> anyhow::Result<String> {
        sqlx::query(
            "INSERT INTO web_keys (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name.to_string())
        .bind(fresh.to_string())
        .execute(self.pool())
        .await?;
        let row = sqlx::query("SELECT value FROM web_keys WHERE name = $1")
            .bind(name.to_string())
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get(0)?)
    }

    /// The reporter's own report behind a receipt code hash, with their additions.
    pub async fn receipt_report(&self, code_hash: &str) -> anyhow::Result<Option<ReceiptReport>> {
        let Some(row) = sqlx::query(
            "SELECT r.id, r.case_id, r.received_at, r.text, r.address, r.subject_json FROM receipts t \
             JOIN reports r ON r.id = t.report_id WHERE t.code_hash = $1",
        )
        .bind(code_hash.to_string())
        .fetch_optional(self.pool())
        .await?
        else {
            return Ok(None);
        };
        let report_id: i64 = row.try_get(0)?;
        let case_id: i64 = row.try_get(1)?;
        let subject: Option<String> = row.try_get(5)?;
        let subject_name = subject
            .and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok())
            .and_then(|v| v["name"].as_str().map(str::to_string));
        let mut files = Vec::new();
        let mut added: Vec<(i64, FileRow)> = Vec::new();
        for f in sqlx::query(
            "SELECT file_name, size, rejected, added_seq FROM attachments WHERE report_id = $1 ORDER BY id",
        )
        .bind(report_id)
        .fetch_all(self.pool())
        .await?
        {
            let file = FileRow {
                name: f.try_get(0)?,
                size: f.try_get(1)?,
                rejected: f.try_get(2)?,
            };
            match f.try_get::<Option<i64>, _>(3)? {
                Some(seq) => added.push((seq, file)),
                None => files.push(file),
            }
        }
        let mut additions = Vec::new();
        for e in sqlx::query(
            "SELECT seq, at, data FROM events WHERE case_id = $1 AND kind = 'case.reporter_added' \
             AND (report_id = $2 OR report_id IS NULL) ORDER BY seq",
        )
        .bind(case_id)
        .bind(report_id)
        .fetch_all(self.pool())
        .await?
        {
            let seq: i64 = e.try_get(0)?;
            let data: serde_json::Value =
                serde_json::from_str(&e.try_get::<String, _>(2)?).unwrap_or_default();
            additions.push(Addition {
                at: e.try_get(1)?,
                text: data["text"].as_str().unwrap_or_default().to_string(),
                files: added
                    .iter()
                    .filter(|(s, _)| *s == seq)
                    .map(|(_, f)| f.clone())
                    .collect(),
            });
        }
        Ok(Some(ReceiptReport {
            report_id,
            case_id,
            received_at: row.try_get(2)?,
            text: row.try_get(3)?,
            address: row.try_get(4)?,
            subject_name,
            files,
            additions,
        }))
    }

    /// Records what an anonymous reporter added with their receipt code — text, files, or both —
    /// in one transaction with its event. A form's token makes a re-sent form add nothing
    /// (`Ok(None)`); otherwise the event's sequence number.
    pub async fn add_reporter_information(
        &self,
        case_id: i64,
        report_id: Option<i64>,
        text: &str,
        files: &[Attachment],
        form_token: Option<&str>,
    ) -> anyhow::Result<Option<i64>> {
        let mut tx = self.begin_write().await?;
        let now = now_text();
        if let Some(token) = form_token {
            let taken = sqlx::query(
                "INSERT INTO form_submissions (token, at) VALUES ($1, $2) ON CONFLICT (token) DO NOTHING",
            )
            .bind(token.to_string())
            .bind(now.clone())
            .execute(&mut *tx)
            .await?;
            if taken.rows_affected() == 0 {
                return Ok(None);
            }
        }
        let listed: Vec<serde_json::Value> = files
            .iter()
            .map(|f| serde_json::json!({"name": f.file_name, "size": f.size, "content_type": f.content_type}))
            .collect();
        let mut data = serde_json::json!({"text": text});
        if !listed.is_empty() {
            data["files"] = serde_json::Value::Array(listed);
        }
        let row = sqlx::query(
            "INSERT INTO events (at, actor, kind, case_id, report_id, data) VALUES ($1, 'reporter', \
             'case.reporter_added', $2, $3, $4) RETURNING seq",
        )
        .bind(now)
        .bind(case_id)
        .bind(report_id)
        .bind(data.to_string())
        .fetch_one(&mut *tx)
        .await?;
        let seq: i64 = row.try_get(0)?;
        if let Some(report_id) = report_id {
            for f in files {
                sqlx::query(
                    "INSERT INTO attachments (report_id, file_name, content_type, size, sha256, data, \
                     rejected, added_seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(report_id)
                .bind(f.file_name.clone())
                .bind(f.content_type.clone())
                .bind(f.size)
                .bind(f.sha256.clone())
                .bind(f.data.clone())
                .bind(f.rejected.clone())
                .bind(seq)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(Some(seq))
    }
}
