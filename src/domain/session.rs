//! Sessions of a piece of work, who attended them and how, and the decisions made there.

use async_graphql::SimpleObject;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::id::{AttendanceId, DecisionId, OpportunityId, ParticipantId, SessionId};

use super::inclusion::Format;
use super::time::Rfc3339;
use super::validation::{FieldError, Problems};
use super::written::WriteFields;

/// A meeting or event of a piece of work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, async_graphql::SimpleObject)]
#[graphql(serial, complex)]
pub struct Session {
    pub id: SessionId,
    pub opportunity_id: OpportunityId,
    #[serde(serialize_with = "super::time::rfc3339")]
    #[graphql(skip, derived(name = "starts_at", into = "Rfc3339", owned))]
    pub starts_at: DateTime<Utc>,
    pub duration_minutes: i32,
    pub format: Format,
    /// The agenda had a slot for lived experience.
    pub lived_experience_agenda_slot: bool,
    #[graphql(skip)]
    #[serde(serialize_with = "super::time::rfc3339")]
    pub created_at: DateTime<Utc>,
}

domain_enum! {
    /// The guide values taking part and being there, and counts them apart.
    pub enum Participation as "participation" {
        Participated = "participated",
        Attended = "attended",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, SimpleObject, WriteFields)]
#[graphql(serial)]
pub struct Attendance {
    pub id: AttendanceId,
    pub session_id: SessionId,
    pub participant_id: ParticipantId,
    pub minutes: i32,
    pub participation: Participation,
    #[serde(serialize_with = "super::time::rfc3339")]
    #[graphql(skip, derived(name = "recorded_at", into = "Rfc3339", owned))]
    pub recorded_at: DateTime<Utc>,
}

/// Which attendance a list shows, besides what the caller may see: by the work's organisation,
/// contract or piece of work, and by when the session started (`from` inclusive, `to` the day
/// after), as an evidence report counts people and hours.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, async_graphql::InputObject)]
#[graphql(name = "AttendanceFilter")]
pub struct AttendanceFilter {
    pub organisation_id: Option<super::id::OrganisationId>,
    pub contract_id: Option<super::id::ContractId>,
    pub opportunity_id: Option<OpportunityId>,
    pub from: Option<chrono::NaiveDate>,
    pub to: Option<chrono::NaiveDate>,
}

impl AttendanceFilter {
    /// A period must end after it starts.
    pub fn checked(self) -> Result<Self, Vec<FieldError>> {
        match (self.from, self.to) {
            (Some(from), Some(to)) if to <= from => {
                Err(vec![FieldError::new("to", "must be after from")])
            }
            _ => Ok(self),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, SimpleObject, WriteFields)]
#[graphql(serial)]
pub struct Decision {
    pub id: DecisionId,
    pub session_id: SessionId,
    pub description: String,
    /// Lived-experience members shared in making it.
    pub shared_with_lived_experience: bool,
    #[serde(serialize_with = "super::time::rfc3339")]
    #[graphql(skip, derived(name = "recorded_at", into = "Rfc3339", owned))]
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
#[graphql(serial)]
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

/// Attendance that passed its checks: the only way to get one is to parse an
/// [`AttendanceInput`] against the session's length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAttendance {
    participant_id: ParticipantId,
    minutes: i32,
    participation: Participation,
}

impl NewAttendance {
    pub fn participant_id(&self) -> ParticipantId {
        self.participant_id
    }

    /// The record, at a session, as of `at`.
    pub fn record(&self, session_id: SessionId, at: DateTime<Utc>) -> Attendance {
        Attendance {
            id: super::new_id(),
            session_id,
            participant_id: self.participant_id,
            minutes: self.minutes,
            participation: self.participation,
            recorded_at: at,
        }
    }
}

/// A decision that passed its checks, its description trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDecision {
    description: String,
    shared_with_lived_experience: bool,
}

impl NewDecision {
    /// The record, at a session, as of `at`.
    pub fn record(&self, session_id: SessionId, at: DateTime<Utc>) -> Decision {
        Decision {
            id: super::new_id(),
            session_id,
            description: self.description.clone(),
            shared_with_lived_experience: self.shared_with_lived_experience,
            recorded_at: at,
        }
    }
}

/// A session that passed its checks, with the attendance and decisions posted with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    starts_at: DateTime<Utc>,
    duration_minutes: i32,
    format: Format,
    lived_experience_agenda_slot: bool,
    attendance: Vec<NewAttendance>,
    decisions: Vec<NewDecision>,
}

impl NewSession {
    pub fn starts_at(&self) -> DateTime<Utc> {
        self.starts_at
    }

    pub fn attendance(&self) -> &[NewAttendance] {
        &self.attendance
    }

    pub fn decisions(&self) -> &[NewDecision] {
        &self.decisions
    }

    /// The session record of a piece of work, as of `at`.
    pub fn record(&self, opportunity_id: OpportunityId, at: DateTime<Utc>) -> Session {
        Session {
            id: super::new_id(),
            opportunity_id,
            starts_at: self.starts_at,
            duration_minutes: self.duration_minutes,
            format: self.format,
            lived_experience_agenda_slot: self.lived_experience_agenda_slot,
            created_at: at,
        }
    }
}

impl AttendanceInput {
    /// Checks the minutes against the session's length.
    pub fn parse(&self, session_minutes: i32) -> Result<NewAttendance, Vec<FieldError>> {
        let mut p = Problems::default();
        let parsed = self.parse_into(&mut p, "", session_minutes);
        p.finish(parsed)
    }

    /// Checks into `p`, naming fields under `field`; returns the value whatever was found, so
    /// the caller can add its own checks before finishing.
    pub fn parse_into(&self, p: &mut Problems, field: &str, session_minutes: i32) -> NewAttendance {
        if self.minutes < 0 {
            p.add(path(field, "minutes"), "must not be negative");
        } else if self.minutes > session_minutes.max(0) {
            p.add(
                path(field, "minutes"),
                format!("must not be more than the session's {session_minutes} minutes"),
            );
        }
        NewAttendance {
            participant_id: self.participant_id,
            minutes: self.minutes,
            participation: self.participation,
        }
    }
}

impl DecisionInput {
    pub fn parse(&self) -> Result<NewDecision, Vec<FieldError>> {
        let mut p = Problems::default();
        let parsed = self.parse_into(&mut p, "");
        p.finish_parsed(parsed)
    }

    fn parse_into(&self, p: &mut Problems, field: &str) -> Option<NewDecision> {
        let description = p.required_text(&path(field, "description"), &self.description, 2000)?;
        Some(NewDecision {
            description,
            shared_with_lived_experience: self.shared_with_lived_experience,
        })
    }
}

impl SessionInput {
    /// Checks the session and everything posted with it; `is_member` says whether a
    /// participant holds a place in the work.
    pub fn parse(
        &self,
        is_member: impl Fn(ParticipantId) -> bool,
    ) -> Result<NewSession, Vec<FieldError>> {
        let mut p = Problems::default();
        if !(1..=DAY_MINUTES).contains(&self.duration_minutes) {
            p.add("duration_minutes", "must be between 1 and 1440");
        }
        if self.attendance.len() > MAX_ATTENDANCE {
            p.add(
                "attendance",
                format!("at most {MAX_ATTENDANCE} people can be recorded at one session"),
            );
            return Err(p.into_errors());
        }
        if self.decisions.len() > MAX_DECISIONS {
            p.add(
                "decisions",
                format!("at most {MAX_DECISIONS} decisions can be recorded with one session"),
            );
            return Err(p.into_errors());
        }
        let mut seen = std::collections::HashSet::new();
        let mut attendance = Vec::with_capacity(self.attendance.len());
        for (i, a) in self.attendance.iter().enumerate() {
            let field = format!("attendance[{i}]");
            attendance.push(a.parse_into(&mut p, &field, self.duration_minutes));
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
        let decisions: Vec<Option<NewDecision>> = self
            .decisions
            .iter()
            .enumerate()
            .map(|(i, d)| d.parse_into(&mut p, &format!("decisions[{i}]")))
            .collect();
        let decisions: Option<Vec<NewDecision>> = decisions.into_iter().collect();
        let parsed = decisions.map(|decisions| NewSession {
            starts_at: super::truncate_to_micros(self.starts_at),
            duration_minutes: self.duration_minutes,
            format: self.format,
            lived_experience_agenda_slot: self.lived_experience_agenda_slot,
            attendance,
            decisions,
        });
        p.finish_parsed(parsed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> SessionInput {
        SessionInput {
            starts_at: DateTime::from_timestamp_nanos(1_700_000_000_123_456_789),
            duration_minutes: 90,
            format: Format::Virtual,
            lived_experience_agenda_slot: true,
            attendance: vec![AttendanceInput {
                participant_id: ParticipantId::new(),
                minutes: 60,
                participation: Participation::Participated,
            }],
            decisions: vec![DecisionInput {
                description: "  Meet monthly \n".to_owned(),
                shared_with_lived_experience: true,
            }],
        }
    }

    #[test]
    fn a_parsed_session_holds_the_values_as_they_will_be_stored() {
        let input = input();
        let new = input.parse(|_| true).expect("valid");
        assert_eq!(new.starts_at().timestamp_subsec_nanos(), 123_456_000);
        let at = Utc::now();
        let session = new.record(OpportunityId::new(), at);
        let decision = new.decisions()[0].record(session.id, at);
        assert_eq!(decision.description, "Meet monthly");
        let attendance = new.attendance()[0].record(session.id, at);
        assert_eq!(
            attendance.participant_id,
            input.attendance[0].participant_id
        );
        assert_eq!(attendance.minutes, 60);
    }

    #[test]
    fn every_problem_is_named_at_once() {
        let mut input = input();
        input.attendance[0].minutes = 91;
        input.decisions[0].description = "   ".to_owned();
        let errors = input.parse(|_| false).expect_err("invalid");
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "attendance[0].minutes",
                "attendance[0].participant_id",
                "decisions[0].description"
            ]
        );
    }
}
