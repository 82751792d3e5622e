//! GraphQL faces of the domain's enums (same values, GraphQL's SCREAMING_CASE).

use async_graphql::Enum;

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(
    remote = "crate::domain::ladder::OpportunityKind",
    name = "OpportunityKind"
)]
pub enum OpportunityKindGql {
    Consultation,
    Meeting,
    TenderScoring,
    Workshop,
    BlogVlog,
    TrainingReceived,
    TrainingCodelivered,
    InterviewPanel,
    OneOffProject,
    ServiceReview,
    Feedback,
    Survey,
    TellingYourStory,
    Board,
    Evaluation,
    Innovation,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(
    remote = "crate::domain::ladder::OpportunityStatus",
    name = "OpportunityStatus"
)]
pub enum OpportunityStatusGql {
    Draft,
    Advertised,
    Running,
    Ended,
    Cancelled,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "crate::domain::ladder::WorkingMode", name = "WorkingMode")]
pub enum WorkingModeGql {
    NoEngagement,
    Informing,
    Consultation,
    Involvement,
    CoProduction,
    Collaboration,
    UserLed,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "crate::domain::ladder::LadderLevel", name = "LadderLevel")]
pub enum LadderLevelGql {
    NoEngagement,
    Informing,
    Consultation,
    Involvement,
    CoProduction,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "crate::domain::ladder::Criterion", name = "Criterion")]
pub enum CriterionGql {
    FromTheStart,
    ThroughToTheEnd,
    EqualSayInDecisions,
    PaymentOrRecognition,
    ClearEndingOrContinuousFeedback,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "crate::domain::ladder::ClaimCheck", name = "ClaimCheck")]
pub enum ClaimCheckGql {
    Matches,
    Overclaimed,
    Underclaimed,
    BesideLadder,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "crate::domain::inclusion::Format", name = "Format")]
pub enum FormatGql {
    InPerson,
    Virtual,
    Hybrid,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "crate::domain::inclusion::Support", name = "Support")]
pub enum SupportGql {
    Travel,
    LiftToVenue,
    EasyRead,
    InterpreterOrBsl,
    CarerCover,
    ItLoan,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(
    remote = "crate::domain::opportunity::LivedExperienceArea",
    name = "LivedExperienceArea"
)]
pub enum LivedExperienceAreaGql {
    MentalHealth,
    DrugsAndAlcohol,
    LearningDisability,
    Autism,
    Homelessness,
    Other,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "crate::domain::opportunity::Admission", name = "Admission")]
pub enum AdmissionGql {
    FirstCome,
    StaffReview,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(
    remote = "crate::domain::membership::MemberStatus",
    name = "MemberStatus"
)]
pub enum MemberStatusGql {
    Applied,
    Invited,
    Accepted,
    Declined,
    Withdrawn,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "crate::domain::membership::MemberRole", name = "MemberRole")]
pub enum MemberRoleGql {
    Member,
    Representative,
    CoChair,
    Facilitator,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "crate::domain::membership::Experience", name = "Experience")]
pub enum ExperienceGql {
    LivedExperience,
    Carer,
    Both,
    None,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(
    remote = "crate::domain::session::Participation",
    name = "Participation"
)]
pub enum ParticipationGql {
    Participated,
    Attended,
}

/// Maps a list of domain values to their GraphQL face, or back.
pub fn all<A: Copy, B: From<A>>(items: &[A]) -> Vec<B> {
    items.iter().map(|i| B::from(*i)).collect()
}
