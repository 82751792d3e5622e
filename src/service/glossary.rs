//! The glossary: anyone signed in reads it; admins and staff add terms. It starts with the
//! guide's jargon buster.

use super::Services;
use crate::db::{self, DbConnection};
use crate::domain::glossary::{GlossaryInput, GlossaryTerm};
use crate::domain::glossary_seed::GLOSSARY_SEED;
use crate::domain::identity::Principal;
use crate::domain::page::{Page, PageRequest};
use crate::domain::{new_id, now};
use crate::error::AppError;

/// The meanings of these terms that the glossary holds, by term key.
pub async fn meanings(
    services: &Services,
    terms: &[&str],
) -> Result<std::collections::HashMap<String, String>, AppError> {
    let keys: Vec<String> = terms
        .iter()
        .map(|t| crate::domain::glossary::term_key(t))
        .collect();
    let found = services
        .db
        .read(move |conn| db::glossary::with_keys(conn, &keys))
        .await?;
    Ok(found
        .into_iter()
        .map(|t| (crate::domain::glossary::term_key(&t.term), t.meaning))
        .collect())
}

pub async fn list(services: &Services, page: PageRequest) -> Result<Page<GlossaryTerm>, AppError> {
    let rows = services
        .db
        .read(move |conn| db::glossary::list(conn, page))
        .await?;
    Ok(Page::from_rows(rows, page, |t| t.id))
}

pub async fn add(
    services: &Services,
    principal: &Principal,
    input: &GlossaryInput,
) -> Result<GlossaryTerm, AppError> {
    if !(principal.is_admin() || principal.is_staff()) {
        return Err(AppError::Forbidden(
            "admins and staff add glossary terms".to_owned(),
        ));
    }
    let (term, meaning) = input.parse()?;
    let t = GlossaryTerm {
        id: new_id(),
        term,
        meaning,
        created_at: now(),
    };
    let stored = t.clone();
    services
        .db
        .run(move |conn| db::glossary::insert(conn, &stored))
        .await?;
    Ok(t)
}

/// Seeds the glossary on start; returns how many terms were added.
pub async fn seed(services: &Services) -> Result<usize, AppError> {
    services.db.run(seed_if_empty).await
}

/// Fills an empty glossary with the guide's terms (at start; a second instance racing on the
/// same empty database loses the race harmlessly).
pub fn seed_if_empty(conn: &mut DbConnection) -> Result<usize, AppError> {
    use diesel::Connection;
    if db::glossary::count(conn)? > 0 {
        return Ok(0);
    }
    let result = conn.transaction(|conn| {
        let at = now();
        for (term, meaning) in GLOSSARY_SEED {
            db::glossary::insert(
                conn,
                &GlossaryTerm {
                    id: new_id(),
                    term: (*term).to_owned(),
                    meaning: (*meaning).to_owned(),
                    created_at: at,
                },
            )?;
        }
        Ok::<_, AppError>(GLOSSARY_SEED.len())
    });
    match result {
        Err(AppError::Conflict(_)) => Ok(0),
        other => other,
    }
}
