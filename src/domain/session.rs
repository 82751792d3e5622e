//! Sessions of a piece of work, who attended them and how, and the decisions made there.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::id::{AttendanceId, DecisionId, OpportunityId, ParticipantId, SessionId};

use super::inclusion::Format;
use super::validation::{FieldError, Problems};

/// A meeting or event of a piece of work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, async_graphql::SimpleObject)]
#[graphql(complex)]
pub struct Session {
    pub id: SessionId,
    pub opportunity_id: OpportunityId,
    pub starts_at: DateTime<Utc>,
    pub duration_minutes: i32,
    pub format: Format,
    /// The agenda had a slot for lived experience.
    pub lived_experience_agenda_slot: bool,
    #[graphql(skip)]
    pub created_at: DateTime<Utc>,
}

domain_enum! {
    /// The guide values taking part and being there, and counts them apart.
    pub enum Participation as "participation" {
        Participated = "participated",
        Attended = "attended",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, async_graphql::SimpleObject)]
pub struct Attendance {
    pub id: AttendanceId,
    pub session_id: SessionId,
    pub participant_id: ParticipantId,
    pub minutes: i32,
    pub participation: Participation,
    pub recorded_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, async_graphql::SimpleObject)]
pub struct Decision {
    pub id: DecisionId,
    pub session_id: SessionId,
    pub description: String,
    /// Lived-experience members shared in making it.
    pub shared_with_lived_experience: bool,
    pub recorded_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, ToSchema, async_graphql::InputObject)]
#[serde(deny_unknown_fields)]
pub struct AttendanceInput {
    pub participant_id: ParticipantId,
    #[schema(minimum = 0, maximum = 1440)]
    #[serde(deserialize_with = "super::validation::whole::i32")]
    pub minutes: i32,
    pub participation: Participation,
}

#[derive(Debug, Clone, Deserialize, ToSchema, async_graphql::InputObject)]
#[serde(deny_unknown_fields)]
pub struct DecisionInput {
    #[schema(
        min_length = 1,
        max_length = 2000,
        pattern = r"^[^\x00]*[^\x00\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00]*$"
    )]
    pub description: String,
    pub shared_with_lived_experience: bool,
}

/// A session, optionally with its attendance and decisions: stored all together or not at all.
#[derive(Debug, Clone, Deserialize, ToSchema, async_graphql::InputObject)]
#[serde(deny_unknown_fields)]
pub struct SessionInput {
    pub starts_at: DateTime<Utc>,
    #[schema(minimum = 1, maximum = 1440)]
    #[serde(deserialize_with = "super::validation::whole::i32")]
    pub duration_minutes: i32,
    pub format: Format,
    #[serde(default)]
    #[graphql(default)]
    pub lived_experience_agenda_slot: bool,
    #[serde(default)]
    #[graphql(default)]
    #[schema(max_items = 1000)]
    pub attendance: Vec<AttendanceInput>,
    #[serde(default)]
    #[graphql(default)]
    #[schema(max_items = 200)]
    pub decisions: Vec<DecisionInput>,
}

/// A session with everything recorded at it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, async_graphql::SimpleObject)]
pub struct SessionRecord {
    #[serde(flatten)]
    pub session: Session,
    pub attendance: Vec<Attendance>,
    pub decisions: Vec<Decision>,
}

const DAY_MINUTES: i32 = 24 * 60;
/// Most attendance rows one session takes in one call, and most decisions.
pub const MAX_ATTENDANCE: usize = 1_000;
pub const MAX_DECISIONS: usize = 200;

/// `prefix.name`, or just `name` at the top level.
fn path(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

pub fn check_attendance(
    p: &mut Problems,
    field: &str,
    input: &AttendanceInput,
    session_minutes: i32,
) {
    if input.minutes < 0 {
        p.add(path(field, "minutes"), "must not be negative");
    } else if input.minutes > session_minutes.max(0) {
        p.add(
            path(field, "minutes"),
            format!("must not be more than the session's {session_minutes} minutes"),
        );
    }
}

pub fn check_decision(p: &mut Problems, field: &str, input: &DecisionInput) -> Option<String> {
    p.required_text(&path(field, "description"), &input.description, 2000)
}

impl SessionInput {
    /// Checks the session and everything posted with it; `is_member` says whether a
    /// participant holds a place in the work.
    pub fn check(&self, is_member: impl Fn(ParticipantId) -> bool) -> Result<(), Vec<FieldError>> {
        let mut p = Problems::default();
        if !(1..=DAY_MINUTES).contains(&self.duration_minutes) {
            p.add("duration_minutes", "must be between 1 and 1440");
        }
        if self.attendance.len() > MAX_ATTENDANCE {
            p.add(
                "attendance",
                format!("at most {MAX_ATTENDANCE} people can be recorded at one session"),
            );
            return p.finish(());
        }
        if self.decisions.len() > MAX_DECISIONS {
            p.add(
                "decisions",
                format!("at most {MAX_DECISIONS} decisions can be recorded with one session"),
            );
            return p.finish(());
        }
        let mut seen = std::collections::HashSet::new();
        for (i, a) in self.attendance.iter().enumerate() {
            let field = format!("attendance[{i}]");
            check_attendance(&mut p, &field, a, self.duration_minutes);
            if !is_member(a.participant_id) {
                p.add(
                    format!("{field}.participant_id"),
                    "is not an accepted member of this work",
                );
            }
            if !seen.insert(a.participant_id) {
                p.add(
                    format!("{field}.participant_id"),
                    "is listed twice for one session",
                );
            }
        }
        for (i, d) in self.decisions.iter().enumerate() {
            check_decision(&mut p, &format!("decisions[{i}]"), d);
        }
        p.finish(())
    }
}
