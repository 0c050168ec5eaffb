//! Channel adapters: each channel's own wire shape, converted into an envelope at the edge.

use intake::{Category, EnvelopeError, EnvelopeWire, ReporterWire, SubjectWire};
use serde::Deserialize;

/// A 12345 work order as the platform pushes it.
#[derive(Debug, Deserialize)]
pub struct WorkOrder {
    /// 工单编号: the idempotency key.
    pub order_no: Option<String>,
    /// When the order was created.
    pub created_at: Option<String>,
    /// The caller.
    pub caller: Option<Caller>,
    /// 诉求内容.
    pub content: Option<String>,
    /// 问题地址.
    pub location: Option<String>,
    /// The platform's category.
    pub category: Option<String>,
    /// 办理时限.
    pub deadline: Option<String>,
    /// 承办单位.
    pub dispatch_unit: Option<String>,
    /// 工单标题.
    #[serde(default)]
    pub title: Option<String>,
}

/// The caller of a 12345 order.
#[derive(Debug, Deserialize)]
pub struct Caller {
    /// Name.
    pub name: Option<String>,
    /// Phone.
    pub phone: Option<String>,
}

impl From<WorkOrder> for EnvelopeWire {
    fn from(order: WorkOrder) -> EnvelopeWire {
        let caller = order.caller.unwrap_or(Caller {
            name: None,
            phone: None,
        });
        EnvelopeWire {
            channel: Some("hotline_12345".into()),
            external_id: order.order_no.map(serde_json::Value::String),
            received_at: order.created_at,
            reporter: Some(ReporterWire {
                name: caller.name,
                phone: caller.phone,
                ..Default::default()
            }),
            subject: None,
            address: order.location,
            title: order.title,
            text: order.content,
            deadline: order.deadline,
        }
    }
}

/// A 12350 operator's call log.
#[derive(Debug, Deserialize)]
pub struct CallLog {
    /// The call's id: the idempotency key.
    pub call_id: Option<String>,
    /// The number that called.
    pub caller_number: Option<String>,
    /// The caller's name, if given.
    pub caller_name: Option<String>,
    /// The caller asked to stay anonymous.
    pub anonymous: Option<bool>,
    /// When the call started.
    pub started_at: Option<String>,
    /// What the operator noted.
    pub notes: Option<String>,
    /// The subject's name, if the operator filled it.
    pub subject_name: Option<String>,
    /// The subject's kind, if the operator chose it.
    pub subject_kind: Option<String>,
    /// The address, if the operator filled it.
    pub address: Option<String>,
    /// Categories the operator chose.
    pub categories: Option<Vec<String>>,
}

impl CallLog {
    /// The envelope and the categories the operator chose.
    pub fn into_envelope(self) -> Result<(EnvelopeWire, Vec<Category>), EnvelopeError> {
        let categories = self
            .categories
            .unwrap_or_default()
            .iter()
            .map(|c| {
                c.parse::<Category>().map_err(|_| EnvelopeError::Invalid {
                    field: "categories",
                    reason: format!("unknown category {c:?}"),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let subject =
            (self.subject_name.is_some() || self.subject_kind.is_some()).then_some(SubjectWire {
                name: self.subject_name,
                kind: self.subject_kind,
                address: None,
            });
        let wire = EnvelopeWire {
            channel: Some("hotline_12350".into()),
            external_id: self.call_id.map(serde_json::Value::String),
            received_at: self.started_at,
            reporter: Some(ReporterWire {
                name: self.caller_name,
                phone: self.caller_number,
                anonymous: self.anonymous,
                ..Default::default()
            }),
            subject,
            address: self.address,
            title: None,
            text: self.notes,
            deadline: None,
        };
        Ok((wire, categories))
    }
}
