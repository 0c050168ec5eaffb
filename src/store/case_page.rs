//! Reads of the officer's case page and queue that no API route needed before: a case's
//! attachments, the open cases about the same subject (suggested duplicates), and the referral
//! letters already queued for a case.

use super::Store;
use sqlx::Row;

/// An attachment of a report, as the case page lists it.
#[derive(Debug, Clone)]
pub struct CaseFile {
    /// The report it came with.
    pub report_id: i64,
    /// File name as sent.
    pub name: String,
    /// Size in bytes.
    pub size: i64,
    /// Why it was refused at intake (type or size), when it was; kept as a record only.
    pub rejected: Option<String>,
}

/// An open case suggested as a duplicate of another (same subject).
#[derive(Debug, Clone)]
pub struct Suggestion {
    /// The case the suggestion is for.
    pub for_case: i64,
    /// The suggested case.
    pub case: super::CaseRow,
}

/// A referral letter's outbox row.
#[derive(Debug, Clone)]
pub struct LetterRow {
    /// `referral:<case>:<code>`.
    pub dedup_key: String,
    /// `pending`, `done` or `failed`.
    pub state: &'static str,
    /// When queued.
    pub created_at: String,
    /// When delivered.
    pub done_at: Option<String>,
}

impl Store {
    /// The attachments of every report of a case, by report and id.
    pub async fn case_files(&self, case_id: i64) -> anyhow::Result<Vec<CaseFile>> {
        let rows = sqlx::query(
            "SELECT a.report_id, a.file_name, a.size, a.rejected FROM attachments a \
             JOIN reports r ON r.id = a.report_id WHERE r.case_id = $1 ORDER BY a.report_id, a.id",
        )
        .bind(case_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(CaseFile {
                    report_id: r.try_get(0)?,
                    name: r.try_get(1)?,
                    size: r.try_get(2)?,
                    rejected: r.try_get(3)?,
                })
            })
            .collect()
    }

    /// Open cases (not closed, merged or transferred) about the same subject as each of `cases`,
    /// at most `per_case` each, oldest first. The subject is the case's key or any of its
    /// reports' keys (a case may hold reports about more than one). The caller filters by scope.
    pub async fn duplicate_suggestions(
        &self,
        cases: &[(i64, Option<&str>)],
        per_case: usize,
    ) -> anyhow::Result<Vec<Suggestion>> {
        let mut out = Vec::new();
        for (id, key) in cases {
            let mut keys: Vec<String> = sqlx::query(
                "SELECT DISTINCT subject_key FROM reports WHERE case_id = $1 AND subject_key IS NOT NULL",
            )
            .bind(*id)
            .fetch_all(self.pool())
            .await?
            .iter()
            .filter_map(|r| r.try_get::<String, _>(0).ok())
            .collect();
            if let Some(k) = key {
                keys.push((*k).to_string());
            }
            keys.retain(|k| !k.is_empty());
            keys.sort();
            keys.dedup();
            for k in keys.iter().take(3) {
                let rows = sqlx::query(&format!(
                    // Open cases only, through their own partial index (migration 0015): a
                    // subject's closed history does not slow the queue page.
                    "SELECT {} FROM cases WHERE subject_key = $2 AND id <> $1 \
                     AND state NOT IN ('closed', 'merged', 'transferred') \
                     ORDER BY id LIMIT $3",
                    super::read::CASE_COLUMNS
                ))
                .bind(*id)
                .bind(k.clone())
                .bind(i64::try_from(per_case).unwrap_or(3))
                .fetch_all(self.pool())
                .await?;
                for row in &rows {
                    let case = super::read::case_from_row(row)?;
                    let seen = out
                        .iter()
                        .filter(|s: &&Suggestion| s.for_case == *id)
                        .any(|s| s.case.id == case.id);
                    let count = out.iter().filter(|s| s.for_case == *id).count();
                    if !seen && count < per_case {
                        out.push(Suggestion {
                            for_case: *id,
                            case,
                        });
                    }
                }
            }
        }
        Ok(out)
    }

    /// The referral letters queued for a case, by key.
    pub async fn referral_letters(&self, case_id: i64) -> anyhow::Result<Vec<LetterRow>> {
        let rows = sqlx::query(
            "SELECT dedup_key, created_at, done_at, failed_at FROM outbox \
             WHERE kind = 'referral_letter' AND dedup_key LIKE $1 ORDER BY id",
        )
        .bind(format!("referral:{case_id}:%"))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let done_at = super::opt_text(r, "done_at");
                let failed = super::opt_text(r, "failed_at").is_some();
                Ok(LetterRow {
                    dedup_key: r.try_get("dedup_key")?,
                    state: if done_at.is_some() {
                        "done"
                    } else if failed {
                        "failed"
                    } else {
                        "pending"
                    },
                    created_at: r.try_get("created_at")?,
                    done_at,
                })
            })
            .collect()
    }
}

impl Store {
    /// A case's id by its number.
    pub async fn case_id_by_no(&self, case_no: &str) -> anyhow::Result<Option<i64>> {
        let row = sqlx::query("SELECT id FROM cases WHERE case_no = $1")
            .bind(case_no.to_string())
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }
}
