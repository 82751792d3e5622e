//! Inclusion checks on an involvement opportunity.
//!
//! This module owns the barriers the service warns about before an
//! opportunity goes out (warnings, never refusals), the facts it needs to
//! find them (`InclusionFacts`), the formats and support an opportunity can
//! offer, and the pure function `check`. Every barrier carries a short code,
//! a plain-English message naming the specifics, and the guide's own sentence
//! that names the barrier, quoted verbatim from the co-production guidance.
//!
//! Decisions taken where DOMAIN.md is silent (each is also noted at the code):
//! - The start is the earlier of the opportunity's start date and its first
//!   session's UK date. Exactly 14 days' notice is enough; 13 is not. Work
//!   with a start but no advertised date is flagged ("not advertised yet");
//!   work with no start at all is not judged.
//! - Times are judged in UK local time (GMT, or BST from 01:00 UTC on the
//!   last Sunday of March to 01:00 UTC on the last Sunday of October),
//!   computed here so no time-zone database is needed.
//! - A session is "in working hours" when it is on a weekday and any part of
//!   it overlaps 09:00-17:00 UK time: a 16:00-18:00 session is no help to
//!   someone who works until 17:00. Work with no sessions is not judged.
//! - A virtual option exists when the opportunity or any session is virtual
//!   or hybrid; hybrid work is not "in person only".
//! - Acronyms are words with two or more capital letters and no lower-case
//!   letters (a plural "s" is allowed, as in "GPs"). They count as explained
//!   when the glossary knows them or the text explains them in place, as in
//!   "Change Grow Live (CGL)" or "CGL (Change Grow Live)". A few capitalised
//!   words are ignored: "UK", "OK", "TV", "AM", "PM", and common English
//!   words written in capitals for emphasis, as the guide itself does
//!   ("Why would I NOT co-produce?"). "IT" is *not* ignored: in this domain
//!   it usually means information technology, which needs explaining.
//! - Stigmatising language: the guide names 'druggie' and 'nutter' and asks
//!   readers to avoid "derogatory or slang words for mental health and drug
//!   and alcohol" like them. The list extends those two with common
//!   derogatory words and labelling phrases from UK mental-health and
//!   drug-and-alcohol language guidance, each with a kinder alternative. The
//!   guide itself uses "service user", "addiction" and "mental ill health",
//!   so those are *not* flagged; "alcoholic" alone is not flagged because
//!   "alcoholic drinks" is ordinary English (only "an alcoholic" and
//!   "alcoholics" are). Matching is on whole words, case-insensitive.
//! - Both the description and the easy-read text are checked.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc, Weekday};
use serde::{Deserialize, Serialize};

/// Days of notice the check asks for between advertising and starting.
pub const MIN_NOTICE_DAYS: i64 = 14;

pub const SHORT_NOTICE: &str = "short_notice";
pub const WORKING_HOURS_ONLY: &str = "working_hours_only";
pub const NO_PAYMENT_OR_RECOGNITION: &str = "no_payment_or_recognition";
pub const NO_SUPPORT_OFFERED: &str = "no_support_offered";
pub const IN_PERSON_WITHOUT_TRAVEL_SUPPORT: &str = "in_person_without_travel_support";
pub const UNEXPLAINED_ACRONYMS: &str = "unexplained_acronyms";
pub const STIGMATISING_LANGUAGE: &str = "stigmatising_language";

/// Every barrier code, in the order `check` reports them.
pub const ALL_CODES: [&str; 7] = [
    SHORT_NOTICE,
    WORKING_HOURS_ONLY,
    NO_PAYMENT_OR_RECOGNITION,
    NO_SUPPORT_OFFERED,
    IN_PERSON_WITHOUT_TRAVEL_SUPPORT,
    UNEXPLAINED_ACRONYMS,
    STIGMATISING_LANGUAGE,
];

/// The guide's own words for each barrier (verbatim from
/// shared/seed/co-production-guidance.txt).
pub mod quotes {
    /// Steps to Success, Step 4: Communication.
    pub const SHORT_NOTICE: &str =
        "Advertise your opportunities well in advance and as widely as possible";
    /// Potential Barriers or Limitations.
    pub const WORKING_HOURS_ONLY: &str =
        "If all the meetings are during the day, those that work during the day can't attend";
    /// Recognition of Contribution.
    pub const NO_PAYMENT_OR_RECOGNITION: &str = "The chances are that everyone involved in a \
        workstream or project is being paid to be there and it seems only fair that any lived \
        experience involvement has an option of being paid too.";
    /// Steps to Success, Step 5: Inclusivity.
    pub const NO_SUPPORT_OFFERED: &str = "Support individual needs to help people be involved. \
        This may mean a lift to a venue or easy read format";
    /// Potential Barriers or Limitations.
    pub const IN_PERSON_WITHOUT_TRAVEL_SUPPORT: &str = "Some people who don't have a car may \
        find it difficult to get to a meeting, or someone who doesn't have IT will find it \
        difficult getting to an online meeting";
    /// Steps to Success, Step 4: Communication.
    pub const UNEXPLAINED_ACRONYMS: &str =
        "Ensure that you use plain English – no initials or words that people may not understand";
    /// Annex A, Stigma.
    pub const STIGMATISING_LANGUAGE: &str = "We avoid using derogatory or slang words for mental \
        health and drug and alcohol such as 'druggie' 'nutter' etc and would ask you to consider \
        the same.";
}

domain_enum! {
    /// How an opportunity or a session is held.
    pub enum Format as "format" {
        InPerson = "in_person",
        Virtual = "virtual",
        Hybrid = "hybrid",
    }
}

domain_enum! {
    /// Support an opportunity offers to help people take part.
    pub enum Support as "support" {
        Travel = "travel",
        LiftToVenue = "lift_to_venue",
        EasyRead = "easy_read",
        InterpreterOrBsl = "interpreter_or_bsl",
        CarerCover = "carer_cover",
        ItLoan = "it_loan",
    }
}

impl Support {
    /// Support that gets someone without a car to an in-person meeting.
    pub fn helps_with_travel(self) -> bool {
        matches!(self, Support::Travel | Support::LiftToVenue)
    }
}

/// One session, as far as timing and format go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SessionSlot {
    pub starts_at: DateTime<Utc>,
    pub duration_minutes: u32,
    pub format: Format,
}

/// What `check` needs about one opportunity. Borrowed so the caller can
/// build it from rows it already holds.
#[derive(Clone, Copy)]
pub struct InclusionFacts<'a> {
    pub advertised_on: Option<NaiveDate>,
    /// The opportunity's own start date, if it has one.
    pub starts_on: Option<NaiveDate>,
    pub sessions: &'a [SessionSlot],
    pub format: Format,
    pub payment_offered: bool,
    /// Unpaid, but with another recognition (vouchers, training, awards...).
    pub recognition_offered: bool,
    pub support_offered: &'a [Support],
    pub description: &'a str,
    pub easy_read: Option<&'a str>,
    /// Whether the glossary explains a term (called with the acronym as
    /// written, e.g. "CPFT"); case handling is the caller's choice.
    pub glossary: &'a dyn Fn(&str) -> bool,
}

/// One barrier found: a warning, not a refusal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema, async_graphql::SimpleObject)]
#[graphql(serial)]
pub struct Barrier {
    /// Which barrier: one of the guide's, in the order the check reports them.
    pub code: &'static str,
    /// Plain English, naming the specifics.
    pub message: String,
    /// The guide's own sentence naming this barrier.
    pub guide_quote: &'static str,
}

/// Finds every barrier in the opportunity, in `ALL_CODES` order.
pub fn check(facts: &InclusionFacts<'_>) -> Vec<Barrier> {
    let checks: [fn(&InclusionFacts<'_>) -> Option<Barrier>; 7] = [
        short_notice,
        working_hours_only,
        no_payment_or_recognition,
        no_support_offered,
        in_person_without_travel_support,
        unexplained_acronyms,
        stigmatising_language,
    ];
    checks.iter().filter_map(|c| c(facts)).collect()
}

// ---------------------------------------------------------------------------
// UK local time

fn last_sunday(year: i32, month: u32) -> Option<NaiveDate> {
    let last_day = match month {
        3 | 10 => 31,
        _ => return None,
    };
    let d = NaiveDate::from_ymd_opt(year, month, last_day)?;
    let back = i64::from(d.weekday().num_days_from_sunday());
    Some(d - Duration::days(back))
}

/// Converts UTC to UK civil time: BST (UTC+1) runs from 01:00 UTC on the last
/// Sunday of March to 01:00 UTC on the last Sunday of October.
pub fn uk_local(t: DateTime<Utc>) -> NaiveDateTime {
    let naive = t.naive_utc();
    let one_am = NaiveTime::from_hms_opt(1, 0, 0).unwrap_or(NaiveTime::MIN);
    let bst = match (last_sunday(t.year(), 3), last_sunday(t.year(), 10)) {
        (Some(start), Some(end)) => naive >= start.and_time(one_am) && naive < end.and_time(one_am),
        // Unreachable for valid years; GMT is the safe answer.
        _ => false,
    };
    if bst {
        naive + Duration::hours(1)
    } else {
        naive
    }
}

fn first_start(facts: &InclusionFacts<'_>) -> Option<NaiveDate> {
    let first_session = facts
        .sessions
        .iter()
        .map(|s| uk_local(s.starts_at).date())
        .min();
    match (facts.starts_on, first_session) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn has_virtual_option(facts: &InclusionFacts<'_>) -> bool {
    facts.format != Format::InPerson || facts.sessions.iter().any(|s| s.format != Format::InPerson)
}

// ---------------------------------------------------------------------------
// The seven checks

fn short_notice(facts: &InclusionFacts<'_>) -> Option<Barrier> {
    let start = first_start(facts)?;
    let advertise_by = start - Duration::days(MIN_NOTICE_DAYS);
    let message = match facts.advertised_on {
        None => format!(
            "It starts on {start} but has not been advertised; advertise it by {advertise_by} \
             ({MIN_NOTICE_DAYS} days before)."
        ),
        Some(ad) => {
            let notice = (start - ad).num_days();
            if notice >= MIN_NOTICE_DAYS {
                return None;
            }
            if notice < 0 {
                format!(
                    "It was advertised on {ad}, {} days after it started on {start}; advertise \
                     at least {MIN_NOTICE_DAYS} days before the start.",
                    -notice
                )
            } else {
                format!(
                    "It was advertised on {ad}, only {notice} days before it starts on {start}; \
                     advertise at least {MIN_NOTICE_DAYS} days before (by {advertise_by})."
                )
            }
        }
    };
    Some(Barrier {
        code: SHORT_NOTICE,
        message,
        guide_quote: quotes::SHORT_NOTICE,
    })
}

/// Weekday and overlapping 09:00-17:00 UK time.
fn in_working_hours(s: &SessionSlot) -> bool {
    let start = uk_local(s.starts_at);
    if matches!(start.weekday(), Weekday::Sat | Weekday::Sun) {
        return false;
    }
    // A zero-length session still occupies its start minute.
    let end = start + Duration::minutes(i64::from(s.duration_minutes.max(1)));
    let (Some(nine), Some(five)) = (
        NaiveTime::from_hms_opt(9, 0, 0),
        NaiveTime::from_hms_opt(17, 0, 0),
    ) else {
        return false;
    };
    let day = start.date();
    start < day.and_time(five) && end > day.and_time(nine)
}

fn working_hours_only(facts: &InclusionFacts<'_>) -> Option<Barrier> {
    if facts.sessions.is_empty()
        || has_virtual_option(facts)
        || !facts.sessions.iter().all(in_working_hours)
    {
        return None;
    }
    let n = facts.sessions.len();
    let what = if n == 1 {
        "The only session is".to_owned()
    } else {
        format!("All {n} sessions are")
    };
    Some(Barrier {
        code: WORKING_HOURS_ONLY,
        message: format!(
            "{what} on a weekday during working hours (09:00-17:00 UK time), with no evening, \
             weekend or virtual option, so people who work during the day cannot take part."
        ),
        guide_quote: quotes::WORKING_HOURS_ONLY,
    })
}

fn no_payment_or_recognition(facts: &InclusionFacts<'_>) -> Option<Barrier> {
    if facts.payment_offered || facts.recognition_offered {
        return None;
    }
    Some(Barrier {
        code: NO_PAYMENT_OR_RECOGNITION,
        message: "No payment and no other recognition (such as vouchers, training, a volunteer \
                  role or an award) is offered for people's time."
            .to_owned(),
        guide_quote: quotes::NO_PAYMENT_OR_RECOGNITION,
    })
}

fn no_support_offered(facts: &InclusionFacts<'_>) -> Option<Barrier> {
    if !facts.support_offered.is_empty() {
        return None;
    }
    Some(Barrier {
        code: NO_SUPPORT_OFFERED,
        message: "No support is offered to help people take part (for example travel \
                  expenses, a lift to the venue, easy read, an interpreter or British Sign \
                  Language, carer cover, or a loan of IT equipment)."
            .to_owned(),
        guide_quote: quotes::NO_SUPPORT_OFFERED,
    })
}

fn in_person_without_travel_support(facts: &InclusionFacts<'_>) -> Option<Barrier> {
    if has_virtual_option(facts) || facts.support_offered.iter().any(|s| s.helps_with_travel()) {
        return None;
    }
    Some(Barrier {
        code: IN_PERSON_WITHOUT_TRAVEL_SUPPORT,
        message: "It is in person only, and neither travel expenses nor a lift to the venue is \
                  offered."
            .to_owned(),
        guide_quote: quotes::IN_PERSON_WITHOUT_TRAVEL_SUPPORT,
    })
}

/// Capitalised words that are not jargon: everyday abbreviations and common
/// words written in capitals for emphasis.
const NOT_ACRONYMS: &[&str] = &[
    "UK",
    "OK",
    "TV",
    "AM",
    "PM",
    "NOT",
    "NO",
    "YES",
    "THE",
    "AND",
    "OR",
    "ALL",
    "NEW",
    "FREE",
    "NOW",
    "PLEASE",
    "NOTE",
    "IMPORTANT",
    "YOU",
    "YOUR",
    "WE",
    "ONLY",
    "MUST",
];

/// The acronym a word is, if any: two or more capitals, no lower case, an
/// optional plural "s" (returned without it).
fn as_acronym(word: &str) -> Option<&str> {
    let base = match word.strip_suffix('s') {
        Some(b) if b.len() >= 2 => b,
        _ => word,
    };
    let starts_with_capital = base.chars().next().is_some_and(|c| c.is_ascii_uppercase());
    let capitals = base.chars().filter(|c| c.is_ascii_uppercase()).count();
    let only_caps_and_digits = base
        .chars()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    (starts_with_capital && capitals >= 2 && only_caps_and_digits).then_some(base)
}

/// Explained in place: "Change Grow Live (CGL)" or "CGL (Change Grow Live)".
fn explained_in_text(text: &str, acronym: &str) -> bool {
    text.contains(&format!("({acronym})")) || text.contains(&format!("{acronym} ("))
}

fn unexplained_acronyms(facts: &InclusionFacts<'_>) -> Option<Barrier> {
    let texts: Vec<&str> = std::iter::once(facts.description)
        .chain(facts.easy_read)
        .collect();
    let mut found: Vec<&str> = Vec::new();
    for text in &texts {
        for word in text.split(|c: char| !c.is_ascii_alphanumeric()) {
            let Some(acronym) = as_acronym(word) else {
                continue;
            };
            // A shouted stigmatising word is reported as such, not as jargon.
            let shouted_slur = WORDS_TO_AVOID
                .iter()
                .any(|(term, _)| term.eq_ignore_ascii_case(word));
            let explained = NOT_ACRONYMS.contains(&acronym)
                || shouted_slur
                || (facts.glossary)(acronym)
                || texts.iter().any(|t| explained_in_text(t, acronym));
            if !explained && !found.contains(&acronym) {
                found.push(acronym);
            }
        }
    }
    if found.is_empty() {
        return None;
    }
    let list = found.join(", ");
    let message = if found.len() == 1 {
        format!("The acronym {list} is not explained in the text or the glossary.")
    } else {
        format!("These acronyms are not explained in the text or the glossary: {list}.")
    };
    Some(Barrier {
        code: UNEXPLAINED_ACRONYMS,
        message,
        guide_quote: quotes::UNEXPLAINED_ACRONYMS,
    })
}

/// Words and phrases to avoid, each with a kinder alternative. The first two
/// are named by the guide (Annex A); the rest extend them as documented in
/// the module doc. Matched as whole words, case-insensitive.
pub const WORDS_TO_AVOID: &[(&str, &str)] = &[
    ("druggie", "person who uses drugs"),
    ("druggies", "people who use drugs"),
    ("druggy", "person who uses drugs"),
    ("nutter", "person with mental ill health"),
    ("nutters", "people with mental ill health"),
    ("junkie", "person who uses drugs"),
    ("junkies", "people who use drugs"),
    ("junky", "person who uses drugs"),
    ("crackhead", "person who uses drugs"),
    ("crackheads", "people who use drugs"),
    ("smackhead", "person who uses drugs"),
    ("smackheads", "people who use drugs"),
    ("addict", "person with lived experience of addiction"),
    ("addicts", "people with lived experience of addiction"),
    (
        "an alcoholic",
        "a person with lived experience of alcohol addiction",
    ),
    (
        "alcoholics",
        "people with lived experience of alcohol addiction",
    ),
    ("alkie", "person with lived experience of alcohol addiction"),
    (
        "alkies",
        "people with lived experience of alcohol addiction",
    ),
    ("substance abuser", "person who uses drugs or alcohol"),
    ("substance abusers", "people who use drugs or alcohol"),
    ("drug abuser", "person who uses drugs"),
    ("drug abusers", "people who use drugs"),
    ("loony", "person with mental ill health"),
    ("loonies", "people with mental ill health"),
    ("lunatic", "person with mental ill health"),
    ("lunatics", "people with mental ill health"),
    ("psycho", "person with mental ill health"),
    ("psychos", "people with mental ill health"),
    ("schizo", "person with a diagnosis of schizophrenia"),
    ("nutcase", "person with mental ill health"),
    ("the mentally ill", "people with mental ill health"),
    ("mentally handicapped", "people with a learning disability"),
    ("mental handicap", "learning disability"),
    ("retard", "person with a learning disability"),
    ("retarded", "with a learning disability"),
    ("suffers from", "lives with, or has"),
    ("suffering from", "living with, or having"),
    ("committed suicide", "died by suicide"),
    ("commit suicide", "die by suicide"),
];

fn words_lower(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn contains_phrase(words: &[String], phrase: &str) -> bool {
    let wanted: Vec<&str> = phrase.split_whitespace().collect();
    !wanted.is_empty()
        && words
            .windows(wanted.len())
            .any(|w| w.iter().zip(&wanted).all(|(a, b)| a == b))
}

fn stigmatising_language(facts: &InclusionFacts<'_>) -> Option<Barrier> {
    let mut words = words_lower(facts.description);
    // A separator word so a phrase cannot span the two texts.
    words.push(String::new());
    words.extend(words_lower(facts.easy_read.unwrap_or("")));
    let found: Vec<String> = WORDS_TO_AVOID
        .iter()
        .filter(|(term, _)| contains_phrase(&words, term))
        .map(|(term, instead)| format!("'{term}' (say '{instead}')"))
        .collect();
    if found.is_empty() {
        return None;
    }
    Some(Barrier {
        code: STIGMATISING_LANGUAGE,
        message: format!("Please avoid: {}.", found.join("; ")),
        guide_quote: quotes::STIGMATISING_LANGUAGE,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use std::collections::HashSet;

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        match Utc.with_ymd_and_hms(y, m, d, h, min, 0) {
            chrono::LocalResult::Single(t) => t,
            _ => panic!("bad test time"),
        }
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        match NaiveDate::from_ymd_opt(y, m, d) {
            Some(d) => d,
            None => panic!("bad test date"),
        }
    }

    fn slot(t: DateTime<Utc>, minutes: u32, format: Format) -> SessionSlot {
        SessionSlot {
            starts_at: t,
            duration_minutes: minutes,
            format,
        }
    }

    fn no_terms(_: &str) -> bool {
        false
    }

    fn codes(b: &[Barrier]) -> Vec<&'static str> {
        b.iter().map(|b| b.code).collect()
    }

    fn find<'b>(b: &'b [Barrier], code: &str) -> &'b Barrier {
        match b.iter().find(|x| x.code == code) {
            Some(x) => x,
            None => panic!("no {code} barrier in {b:?}"),
        }
    }

    // Wednesday 15 May 2024, 18:00 UK (BST) = 17:00 UTC: an evening session.
    fn evening() -> SessionSlot {
        slot(utc(2024, 5, 15, 17, 0), 90, Format::InPerson)
    }

    // Wednesday 15 May 2024, 10:00 UK (BST) = 09:00 UTC.
    fn weekday_morning(day: u32) -> SessionSlot {
        slot(utc(2024, 5, day, 9, 0), 120, Format::InPerson)
    }

    const GOOD_TEXT: &str = "Help us redesign the crisis café with Change Grow Live (CGL). \
        We meet in the evening and pay £10 an hour.";

    fn well_run<'a>(
        sessions: &'a [SessionSlot],
        support: &'a [Support],
        glossary: &'a dyn Fn(&str) -> bool,
    ) -> InclusionFacts<'a> {
        InclusionFacts {
            advertised_on: Some(date(2024, 4, 1)),
            starts_on: Some(date(2024, 5, 15)),
            sessions,
            format: Format::InPerson,
            payment_offered: true,
            recognition_offered: false,
            support_offered: support,
            description: GOOD_TEXT,
            easy_read: Some("We want to make the café better. Come and help."),
            glossary,
        }
    }

    #[test]
    fn a_well_run_opportunity_has_no_barriers() {
        let sessions = [evening()];
        let support = [Support::Travel, Support::EasyRead];
        let b = check(&well_run(&sessions, &support, &no_terms));
        assert!(b.is_empty(), "{b:?}");
    }

    #[test]
    fn an_opportunity_built_to_trip_every_barrier_returns_every_code() {
        let sessions = [weekday_morning(15), weekday_morning(22)];
        let facts = InclusionFacts {
            advertised_on: Some(date(2024, 5, 10)),
            starts_on: Some(date(2024, 5, 15)),
            sessions: &sessions,
            format: Format::InPerson,
            payment_offered: false,
            recognition_offered: false,
            support_offered: &[],
            description: "Join the CPFT and ICB steering group about junkies.",
            easy_read: None,
            glossary: &no_terms,
        };
        let b = check(&facts);
        assert_eq!(codes(&b), ALL_CODES);
    }

    #[test]
    fn every_barrier_quotes_the_guide() {
        let sessions = [weekday_morning(15)];
        let facts = InclusionFacts {
            advertised_on: None,
            starts_on: None,
            sessions: &sessions,
            format: Format::InPerson,
            payment_offered: false,
            recognition_offered: false,
            support_offered: &[],
            description: "NHS nutter",
            easy_read: None,
            glossary: &no_terms,
        };
        for b in check(&facts) {
            assert!(!b.guide_quote.is_empty());
            assert!(!b.message.is_empty());
        }
        assert!(quotes::STIGMATISING_LANGUAGE.contains("'druggie' 'nutter'"));
    }

    #[test]
    fn advertising_exactly_14_days_before_the_start_is_fine() {
        let sessions = [evening()];
        let support = [Support::Travel];
        let mut f = well_run(&sessions, &support, &no_terms);
        f.advertised_on = Some(date(2024, 5, 1));
        assert!(check(&f).is_empty());
    }

    #[test]
    fn advertising_13_days_before_the_start_is_short_notice() {
        let sessions = [evening()];
        let support = [Support::Travel];
        let mut f = well_run(&sessions, &support, &no_terms);
        f.advertised_on = Some(date(2024, 5, 2));
        let b = check(&f);
        assert_eq!(codes(&b), [SHORT_NOTICE]);
        assert_eq!(
            b[0].message,
            "It was advertised on 2024-05-02, only 13 days before it starts on 2024-05-15; \
             advertise at least 14 days before (by 2024-05-01)."
        );
        assert_eq!(b[0].guide_quote, quotes::SHORT_NOTICE);
    }

    #[test]
    fn the_first_session_counts_as_the_start_when_it_is_earlier_than_the_start_date() {
        let sessions = [evening()];
        let support = [Support::Travel];
        let mut f = well_run(&sessions, &support, &no_terms);
        f.starts_on = Some(date(2024, 6, 30));
        f.advertised_on = Some(date(2024, 5, 2));
        assert_eq!(codes(&check(&f)), [SHORT_NOTICE]);
    }

    #[test]
    fn starting_without_ever_being_advertised_is_short_notice() {
        let sessions = [evening()];
        let support = [Support::Travel];
        let mut f = well_run(&sessions, &support, &no_terms);
        f.advertised_on = None;
        let b = check(&f);
        assert_eq!(codes(&b), [SHORT_NOTICE]);
        assert!(b[0].message.contains("has not been advertised"));
        assert!(b[0].message.contains("by 2024-05-01"));
    }

    #[test]
    fn advertising_after_the_start_is_short_notice() {
        let sessions = [evening()];
        let support = [Support::Travel];
        let mut f = well_run(&sessions, &support, &no_terms);
        f.advertised_on = Some(date(2024, 5, 18));
        let b = check(&f);
        assert!(b[0].message.contains("3 days after it started"));
    }

    #[test]
    fn work_with_no_start_and_no_advert_is_not_judged_for_notice() {
        let support = [Support::Travel];
        let mut f = well_run(&[], &support, &no_terms);
        f.starts_on = None;
        f.advertised_on = None;
        assert!(check(&f).is_empty());
    }

    #[test]
    fn weekday_daytime_sessions_in_person_only_are_working_hours_only() {
        let sessions = [weekday_morning(15), weekday_morning(16)];
        let support = [Support::Travel];
        let b = check(&well_run(&sessions, &support, &no_terms));
        assert_eq!(codes(&b), [WORKING_HOURS_ONLY]);
        assert!(b[0].message.starts_with("All 2 sessions are on a weekday"));
    }

    #[test]
    fn one_evening_session_among_daytime_ones_is_an_evening_option() {
        let sessions = [weekday_morning(15), evening()];
        let support = [Support::Travel];
        assert!(check(&well_run(&sessions, &support, &no_terms)).is_empty());
    }

    #[test]
    fn a_saturday_session_is_outside_working_hours() {
        // Saturday 18 May 2024, 10:00 BST.
        let sessions = [slot(utc(2024, 5, 18, 9, 0), 120, Format::InPerson)];
        let support = [Support::Travel];
        assert!(check(&well_run(&sessions, &support, &no_terms)).is_empty());
    }

    #[test]
    fn a_virtual_option_removes_the_working_hours_barrier() {
        let sessions = [weekday_morning(15)];
        let support = [Support::Travel];
        let mut f = well_run(&sessions, &support, &no_terms);
        f.format = Format::Hybrid;
        assert!(check(&f).is_empty());
        let sessions = [
            weekday_morning(15),
            slot(utc(2024, 5, 16, 9, 0), 60, Format::Virtual),
        ];
        let f = well_run(&sessions, &support, &no_terms);
        assert!(check(&f).is_empty());
    }

    #[test]
    fn a_session_running_past_five_pm_still_clashes_with_working_hours() {
        // 16:00-18:00 BST on a Wednesday.
        let sessions = [slot(utc(2024, 5, 15, 15, 0), 120, Format::InPerson)];
        let support = [Support::Travel];
        assert_eq!(
            codes(&check(&well_run(&sessions, &support, &no_terms))),
            [WORKING_HOURS_ONLY]
        );
    }

    #[test]
    fn a_session_starting_at_five_pm_uk_time_is_an_evening_session() {
        // 17:00 BST = 16:00 UTC: judged in UK time, not UTC.
        let sessions = [slot(utc(2024, 5, 15, 16, 0), 60, Format::InPerson)];
        let support = [Support::Travel];
        assert!(check(&well_run(&sessions, &support, &no_terms)).is_empty());
    }

    #[test]
    fn in_winter_uk_time_is_utc() {
        // Wednesday 15 January 2025, 17:00 UTC = 17:00 GMT: evening.
        assert_eq!(
            uk_local(utc(2025, 1, 15, 17, 0)),
            utc(2025, 1, 15, 17, 0).naive_utc()
        );
        // 16:30 UTC in winter is still working hours.
        let sessions = [slot(utc(2025, 1, 15, 16, 30), 60, Format::InPerson)];
        let support = [Support::Travel];
        let mut f = well_run(&sessions, &support, &no_terms);
        f.starts_on = None;
        f.advertised_on = Some(date(2024, 12, 1));
        assert_eq!(codes(&check(&f)), [WORKING_HOURS_ONLY]);
    }

    #[test]
    fn british_summer_time_starts_and_ends_at_one_am_utc_on_the_last_sundays() {
        // 2024: BST from 31 March 01:00 UTC to 27 October 01:00 UTC.
        let before = utc(2024, 3, 31, 0, 59);
        let after = utc(2024, 3, 31, 1, 0);
        assert_eq!(uk_local(before), before.naive_utc());
        assert_eq!(uk_local(after), after.naive_utc() + Duration::hours(1));
        let last_bst = utc(2024, 10, 27, 0, 59);
        let first_gmt = utc(2024, 10, 27, 1, 0);
        assert_eq!(
            uk_local(last_bst),
            last_bst.naive_utc() + Duration::hours(1)
        );
        assert_eq!(uk_local(first_gmt), first_gmt.naive_utc());
    }

    #[test]
    fn no_payment_and_no_recognition_is_a_barrier_but_either_one_is_enough() {
        let sessions = [evening()];
        let support = [Support::Travel];
        let mut f = well_run(&sessions, &support, &no_terms);
        f.payment_offered = false;
        assert_eq!(codes(&check(&f)), [NO_PAYMENT_OR_RECOGNITION]);
        f.recognition_offered = true;
        assert!(check(&f).is_empty());
    }

    #[test]
    fn offering_no_support_at_all_is_a_barrier() {
        let sessions = [evening()];
        let mut f = well_run(&sessions, &[], &no_terms);
        f.format = Format::Virtual;
        assert_eq!(codes(&check(&f)), [NO_SUPPORT_OFFERED]);
    }

    #[test]
    fn in_person_work_with_support_but_no_travel_help_is_a_barrier() {
        let sessions = [evening()];
        let support = [Support::EasyRead, Support::CarerCover];
        let b = check(&well_run(&sessions, &support, &no_terms));
        assert_eq!(codes(&b), [IN_PERSON_WITHOUT_TRAVEL_SUPPORT]);
    }

    #[test]
    fn a_lift_to_the_venue_counts_as_travel_support() {
        let sessions = [evening()];
        let support = [Support::LiftToVenue];
        assert!(check(&well_run(&sessions, &support, &no_terms)).is_empty());
    }

    #[test]
    fn acronyms_are_named_once_each_in_order_of_appearance() {
        let sessions = [evening()];
        let support = [Support::Travel];
        let mut f = well_run(&sessions, &support, &no_terms);
        f.description = "The ICB and CPFT want GPs at the ICB meeting.";
        let b = check(&f);
        assert_eq!(
            find(&b, UNEXPLAINED_ACRONYMS).message,
            "These acronyms are not explained in the text or the glossary: ICB, CPFT, GP."
        );
    }

    #[test]
    fn acronyms_in_the_glossary_are_explained() {
        let known: HashSet<String> = ["CPFT".to_owned(), "ICB".to_owned()].into();
        let lookup = |t: &str| known.contains(t);
        let sessions = [evening()];
        let support = [Support::Travel];
        let mut f = well_run(&sessions, &support, &lookup);
        f.description = "The ICB and CPFT want you, and an NHS nurse.";
        let b = check(&f);
        assert_eq!(
            find(&b, UNEXPLAINED_ACRONYMS).message,
            "The acronym NHS is not explained in the text or the glossary."
        );
    }

    #[test]
    fn acronyms_spelled_out_in_the_text_are_explained() {
        let sessions = [evening()];
        let support = [Support::Travel];
        let mut f = well_run(&sessions, &support, &no_terms);
        f.description = "Cambridge and Peterborough Foundation Trust (CPFT) and \
                         PPF (Participation and Partnership Forum). CPFT again.";
        assert!(check(&f).is_empty());
    }

    #[test]
    fn everyday_capitals_are_not_treated_as_jargon() {
        let sessions = [evening()];
        let support = [Support::Travel];
        let mut f = well_run(&sessions, &support, &no_terms);
        f.description = "I live in the UK. Why would I NOT co-produce? It is FREE, OK? Meet at \
                         6 PM. Version 2 of the form. A Big Idea.";
        assert!(check(&f).is_empty(), "{:?}", check(&f));
    }

    #[test]
    fn it_is_treated_as_an_acronym_needing_explanation() {
        let sessions = [evening()];
        let support = [Support::Travel];
        let mut f = well_run(&sessions, &support, &no_terms);
        f.description = "We can lend you IT.";
        assert_eq!(codes(&check(&f)), [UNEXPLAINED_ACRONYMS]);
    }

    #[test]
    fn acronyms_in_the_easy_read_text_are_checked_too() {
        let sessions = [evening()];
        let support = [Support::Travel];
        let mut f = well_run(&sessions, &support, &no_terms);
        f.easy_read = Some("Come to the CCG.");
        assert!(find(&check(&f), UNEXPLAINED_ACRONYMS)
            .message
            .contains("CCG"));
    }

    #[test]
    fn the_guides_own_examples_of_stigmatising_words_are_flagged() {
        let sessions = [evening()];
        let support = [Support::Travel];
        let mut f = well_run(&sessions, &support, &no_terms);
        f.description = "No Druggies or NUTTERS please.";
        let b = check(&f);
        assert_eq!(
            find(&b, STIGMATISING_LANGUAGE).message,
            "Please avoid: 'druggies' (say 'people who use drugs'); \
             'nutters' (say 'people with mental ill health')."
        );
        assert_eq!(codes(&b), [STIGMATISING_LANGUAGE]);
        assert_eq!(b[0].guide_quote, quotes::STIGMATISING_LANGUAGE);
    }

    #[test]
    fn stigmatising_phrases_match_across_spacing_and_case() {
        let sessions = [evening()];
        let support = [Support::Travel];
        let mut f = well_run(&sessions, &support, &no_terms);
        f.description = "For people who Suffer from nothing; she Suffers\nfrom anxiety.";
        let b = check(&f);
        assert_eq!(
            find(&b, STIGMATISING_LANGUAGE).message,
            "Please avoid: 'suffers from' (say 'lives with, or has')."
        );
    }

    #[test]
    fn stigmatising_words_match_whole_words_only() {
        let sessions = [evening()];
        let support = [Support::Travel];
        let mut f = well_run(&sessions, &support, &no_terms);
        // "addiction", "psychology", "alcoholic drinks", "service user" are fine.
        f.description = "People with lived experience of addiction, psychology students and \
                         service user groups; no alcoholic drinks.";
        assert!(check(&f).is_empty(), "{:?}", check(&f));
    }

    #[test]
    fn a_phrase_cannot_span_the_description_and_the_easy_read_text() {
        let sessions = [evening()];
        let support = [Support::Travel];
        let mut f = well_run(&sessions, &support, &no_terms);
        f.description = "We are a team that never suffers";
        f.easy_read = Some("from boredom.");
        assert!(check(&f).is_empty());
    }

    #[test]
    fn the_word_list_has_no_duplicates_or_blanks() {
        let mut seen = HashSet::new();
        for (term, instead) in WORDS_TO_AVOID {
            assert!(!term.trim().is_empty() && !instead.trim().is_empty());
            assert_eq!(*term, term.to_lowercase());
            assert!(seen.insert(*term), "duplicate {term}");
        }
    }

    #[test]
    fn formats_and_support_round_trip_through_their_text_form() {
        for v in Format::ALL {
            assert_eq!(v.as_str().parse::<Format>(), Ok(v));
        }
        for v in Support::ALL {
            assert_eq!(v.as_str().parse::<Support>(), Ok(v));
        }
        assert!("bsl".parse::<Support>().is_err());
    }
}
