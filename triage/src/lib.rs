//! Triage: where a report belongs and who must act.
//!
//! - [`Gazetteer`]: the statistical divisions (province → township, 2023), embedded and parsed
//!   once; one Aho-Corasick automaton over every name form (full names, short forms, township
//!   names, old names from `data/aliases.csv`).
//! - [`Triage::locate`]: the locus (county-level division) of a report, with evidence and the
//!   candidates that lost.
//! - [`Triage::route`]: the handling authority, a transfer when the locus is outside home, and the
//!   referrals the notices require.
//!
//! - [`DeadlinePolicy`] / [`WorkCalendar`]: per-step deadlines in working days on the holiday
//!   calendar (public holidays and adjusted working weekends, 2022–2026 embedded).
//!
//! No I/O beyond reading embedded data.
#![deny(missing_docs)]

mod config;
mod context;
mod deadline;
mod gazetteer;
mod locus;
mod names;
mod phone;
mod referral;
mod routing;
#[cfg(test)]
mod test_rng;
mod zones;

pub use config::{Contacts, TriageConfig, ZoneConfig};
pub use deadline::{CalendarError, DeadlinePolicy, Deadlines, Holiday, StepDays, WorkCalendar};
pub use gazetteer::{Division, Gazetteer, Level, NameForm, RawMatch, Reading};
pub use locus::{LocateInput, Locus, PlaceMatch};
pub use phone::PhoneRegions;
pub use referral::{police_body, Referral, BASIS_274, BASIS_TAIAN, BASIS_YU_20, BASIS_YU_22};
pub use routing::{handling_level, Handling, HandlingLevel, HomeDesk, Routing};
pub use zones::Zones;

use chrono::{DateTime, FixedOffset};
use intake::{Category, Channel, SubjectKind};

/// The triage engine.
#[derive(Debug, Default)]
pub struct Triage {
    config: TriageConfig,
    zones: Zones,
}

impl Triage {
    /// A triage engine for a deployment.
    pub fn new(config: TriageConfig) -> Triage {
        let zones = Zones::new(&config.zones);
        Triage { config, zones }
    }

    /// The configuration.
    pub fn config(&self) -> &TriageConfig {
        &self.config
    }

    /// The embedded gazetteer.
    pub fn gazetteer(&self) -> &'static Gazetteer {
        Gazetteer::get()
    }

    /// Finds the locus.
    pub fn locate(&self, input: &LocateInput<'_>) -> Locus {
        locus::locate(
            Gazetteer::get(),
            self.config.home.as_deref(),
            &self.zones,
            input,
        )
    }

    /// The deadlines of a case (the configured [`DeadlinePolicy`], embedded calendar); a 12345
    /// order's own deadline wins for the reply.
    pub fn deadlines(
        &self,
        channel: Channel,
        received_at: DateTime<FixedOffset>,
        channel_deadline: Option<DateTime<FixedOffset>>,
    ) -> Deadlines {
        self.config
            .deadline_policy
            .deadlines_for(channel, received_at, channel_deadline)
    }

    /// Decides handling, transfer and referrals.
    pub fn route(
        &self,
        kind: SubjectKind,
        locus: &Locus,
        categories: &[Category],
        fake_certificate: bool,
    ) -> Routing {
        routing::route(
            Gazetteer::get(),
            &self.config,
            kind,
            locus,
            categories,
            fake_certificate,
        )
    }
}
