//! The glossary a new installation starts with.
//!
//! This module owns `GLOSSARY_SEED`: (term, plain-English meaning) pairs that
//! front ends show and the inclusion check consults for acronyms. It starts
//! with every entry of the guide's "Jargon Buster and Who's Who", in the
//! guide's order and wording (web links dropped, obvious slips tidied, one
//! entry that breaks off mid-sentence in the source ended cleanly). The
//! guide writes "Change Grow Live (CGL)" and mentions acronyms inside other
//! entries, so each acronym also gets an entry of its own: the inclusion
//! check looks terms up by the acronym as written.
//!
//! After the jargon buster come the core terms of this service, in the
//! guide's own words where it has them (co-production, lived experience,
//! involvement, consultation, collaboration, user-led, tender scoring,
//! facilitator, the Five Values) and in plain words of our own where it
//! does not (carer, easy read, BSL, NHS).

/// (term, plain-English meaning). Terms are unique, ignoring case.
pub const GLOSSARY_SEED: &[(&str, &str)] = &[
    // --- The guide's Jargon Buster and Who's Who --------------------------
    (
        "Those that fund services",
        "Often called Commissioners or funders. Local commissioners in Cambridgeshire and \
         Peterborough include The Cambridgeshire and Peterborough Clinical Commissioning Group \
         (CPCCG), The Cambridgeshire County Council (CCC) Public Health (PH) and The Police and \
         Crime Commissioners (PCC). There are other commissioners, and these are just some of \
         the local ones.",
    ),
    (
        "The SUN Network",
        "A non-profit organisation who exist to amplify the voice of those with lived \
         experience of mental health, drugs and alcohol support, or homelessness in \
         Cambridgeshire or Peterborough and facilitate co-production and involvement.",
    ),
    (
        "Recovery Coach Service",
        "A service offered by The Primary Care Mental Health Service (PCMHS) to support people \
         who are coming out of mental health services.",
    ),
    (
        "The Exemplar",
        "A service to improve mental health care in Cambridgeshire and Peterborough. They \
         operate community website pages and Facebook groups HAY Peterborough and HAY \
         Cambridgeshire (How Are You Peterborough and How Are You Cambridgeshire).",
    ),
    ("Change Grow Live", "Drug and alcohol support service."),
    ("Illuminate Charity", "Mental health support charity."),
    (
        "Recovery college",
        "A collaborative learning environment supporting mental health learning.",
    ),
    (
        "CPFT",
        "Cambridge and Peterborough Foundation Trust. Delivers the NHS mental health services \
         in Cambridgeshire and Peterborough.",
    ),
    (
        "Lifeline",
        "A mental health support helpline based in Cambridgeshire, run by Lifecraft.",
    ),
    (
        "Lifecraft",
        "Mental health support service based in Cambridge.",
    ),
    (
        "CPSL Mind",
        "Cambridgeshire Peterborough and South Lincolnshire Mind - mental health support \
         service.",
    ),
    (
        "Healthwatch Cambridgeshire and Peterborough",
        "A service that gathers feedback on all health matters.",
    ),
    (
        "VoiceAbility",
        "An advocacy and involvement service that also run the Speak Out Council with people \
         who are autistic or have learning disabilities.",
    ),
    (
        "Rethink Carers Support",
        "A support service for carers of those with mental health challenges.",
    ),
    (
        "Recovery College East",
        "A CPFT collaborative learning environment.",
    ),
    (
        "Making Space",
        "A support service for carers of adults with mental health challenges.",
    ),
    (
        "Pinpoint",
        "A parent led organisation that gives help and information to parent carers of \
         children and young people aged 0-25 with additional needs and disabilities.",
    ),
    (
        "Participation and Partnership Forum",
        "The CPFT service user forum.",
    ),
    (
        "Viewpoint",
        "A voice organisation for mental health and addiction. Based in Hertfordshire.",
    ),
    (
        "Suffolk User Forum",
        "An independent mental health user led, involvement, peer support and advocacy \
         organisation.",
    ),
    // --- Acronyms the guide uses, each explained on its own -----------------
    (
        "CPCCG",
        "The Cambridgeshire and Peterborough Clinical Commissioning Group: one of those that \
         fund services.",
    ),
    (
        "CCG",
        "Clinical Commissioning Group: an NHS body that funds local health services.",
    ),
    ("CCC", "The Cambridgeshire County Council."),
    ("PH", "Public Health."),
    ("PCC", "The Police and Crime Commissioners."),
    ("PCMHS", "The Primary Care Mental Health Service."),
    ("CGL", "Change Grow Live: drug and alcohol support service."),
    (
        "CPSL",
        "Cambridgeshire Peterborough and South Lincolnshire, as in CPSL Mind.",
    ),
    (
        "PPF",
        "Participation and Partnership Forum: the CPFT service user forum.",
    ),
    (
        "HAY",
        "How Are You: the Facebook groups run by The Exemplar.",
    ),
    (
        "SUN",
        "Part of the name of The SUN Network (see that entry).",
    ),
    // --- Core terms of the service ------------------------------------------
    (
        "Commissioner",
        "One of those that fund services. Those that fund services are often called \
         commissioners or funders.",
    ),
    (
        "Co-production",
        "A partnership of people, some who have lived experience or are carers, working \
         equally with the people who fund and run the services that we all use, sharing \
         decision making from the very start to the finish, including continuous feedback.",
    ),
    (
        "Lived experience",
        "Personal experience of mental health, learning disabilities, addiction etc. (it can \
         be applied to any area of life).",
    ),
    (
        "Involvement",
        "People with lived experience being involved either a lot or a little alongside \
         those who work in services and those who fund services. It may not be at the \
         beginning or for all of the project, and may not mean an equal say in decisions.",
    ),
    (
        "Consultation",
        "When services or those that fund services have conversations with carers and people \
         with lived experience about those services, or a new service they are thinking about \
         creating.",
    ),
    (
        "Collaboration",
        "Those who fund services, and those who work for services working together. Often \
         called 'joint working' or 'partnership working'; everyone may not get an equal say \
         on decisions.",
    ),
    (
        "User-led",
        "When people who use a service also run the service and make the decisions, which \
         means they may be the only ones making decisions.",
    ),
    (
        "Tender",
        "When services are applying for money to run a service. In tender scoring, people \
         with lived experience and carers may ask them questions to see how they will run the \
         service and give them scores based on how well they answer.",
    ),
    (
        "Carer",
        "Someone who, without being paid for it, looks after a family member, partner or \
         friend who needs help because of illness, disability, mental health or addiction.",
    ),
    (
        "Easy read",
        "Information written in short, simple sentences with pictures that help explain it, \
         so that more people can understand it.",
    ),
    (
        "BSL",
        "British Sign Language: the language of hand shapes, movements and facial expressions \
         used by many Deaf people in the UK.",
    ),
    (
        "NHS",
        "National Health Service: the UK's publicly funded health service.",
    ),
    (
        "Facilitator",
        "Someone whose responsibility is to make sure everyone is being heard and move the \
         work along.",
    ),
    (
        "Silo working",
        "Services working alone where no-one knows what they are doing.",
    ),
    (
        "Jargon buster",
        "A list explaining jargon, 'clinical speak' and acronyms.",
    ),
    (
        "Representative involvement",
        "When somebody with lived experience or a carer is asked to represent (speak on \
         behalf of) others with lived experience or carer experience.",
    ),
    (
        "You said - We did",
        "Letting people know how their feedback is making a difference to how the service \
         works, or honestly why it could not be used.",
    ),
    (
        "Five Values",
        "Empathy, Inclusion, Honesty, Working Together and Personalisation: the values chosen \
         by people with lived experience and carers that The SUN Network's Five Values \
         Patient Experience evaluation is based on.",
    ),
    ("Vlog", "A video blog."),
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn has(term: &str) -> bool {
        GLOSSARY_SEED
            .iter()
            .any(|(t, _)| t.eq_ignore_ascii_case(term))
    }

    #[test]
    fn no_term_appears_twice_ignoring_case() {
        let mut seen = HashSet::new();
        for (term, _) in GLOSSARY_SEED {
            assert!(seen.insert(term.to_lowercase()), "duplicate term {term}");
        }
    }

    #[test]
    fn no_term_or_meaning_is_empty_or_padded() {
        for (term, meaning) in GLOSSARY_SEED {
            assert!(!term.trim().is_empty() && !meaning.trim().is_empty());
            assert_eq!(term.trim(), *term);
            assert_eq!(meaning.trim(), *meaning);
            assert!(!meaning.contains("  "), "double space in {term}");
        }
    }

    #[test]
    fn the_seed_contains_co_production_and_the_other_core_terms() {
        for term in [
            "co-production",
            "commissioner",
            "lived experience",
            "tender",
            "involvement",
            "consultation",
            "carer",
            "easy read",
            "BSL",
        ] {
            assert!(has(term), "missing {term}");
        }
    }

    #[test]
    fn every_jargon_buster_entry_of_the_guide_is_present() {
        for term in [
            "Those that fund services",
            "The SUN Network",
            "Recovery Coach Service",
            "The Exemplar",
            "Change Grow Live",
            "Illuminate Charity",
            "Recovery college",
            "CPFT",
            "Lifeline",
            "Lifecraft",
            "CPSL Mind",
            "Healthwatch Cambridgeshire and Peterborough",
            "VoiceAbility",
            "Rethink Carers Support",
            "Recovery College East",
            "Making Space",
            "Pinpoint",
            "Participation and Partnership Forum",
            "Viewpoint",
            "Suffolk User Forum",
        ] {
            assert!(has(term), "missing {term}");
        }
    }

    #[test]
    fn every_acronym_used_in_a_meaning_has_its_own_entry() {
        // The inclusion check looks acronyms up by themselves, so the
        // glossary must not lean on an acronym it does not explain.
        for (term, meaning) in GLOSSARY_SEED {
            for word in meaning.split(|c: char| !c.is_ascii_alphanumeric()) {
                let caps = word.chars().filter(char::is_ascii_uppercase).count();
                let all_caps = word.chars().all(|c| c.is_ascii_uppercase());
                if caps >= 2 && all_caps && word != "UK" {
                    assert!(has(word), "{term} uses unexplained {word}");
                }
            }
        }
    }
}
