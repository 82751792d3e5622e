//! Rows and queries for the glossary.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::glossary_terms;
use super::{from_db_time, parse_id, to_db_time, DbConnection};
use crate::domain::glossary::{term_key, GlossaryTerm};
use crate::domain::page::PageRequest;
use crate::error::AppError;

#[derive(Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = glossary_terms)]
pub struct GlossaryRow {
    pub id: String,
    pub term: String,
    pub term_key: String,
    pub meaning: String,
    pub created_at: NaiveDateTime,
}

impl GlossaryRow {
    fn into_domain(self) -> Result<GlossaryTerm, AppError> {
        Ok(GlossaryTerm {
            id: parse_id(&self.id)?,
            term: self.term,
            meaning: self.meaning,
            created_at: from_db_time(self.created_at),
        })
    }
}

pub fn insert(conn: &mut DbConnection, t: &GlossaryTerm) -> Result<(), AppError> {
    let result = diesel::insert_into(glossary_terms::table)
        .values(GlossaryRow {
            id: t.id.to_string(),
            term: t.term.clone(),
            term_key: term_key(&t.term),
            meaning: t.meaning.clone(),
            created_at: to_db_time(t.created_at),
        })
        .execute(conn);
    match result {
        Ok(_) => Ok(()),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Err(AppError::Conflict(format!(
            "the glossary already explains `{}`",
            t.term
        ))),
        Err(e) => Err(e.into()),
    }
}

pub fn list(conn: &mut DbConnection, page: PageRequest) -> Result<Vec<GlossaryTerm>, AppError> {
    let query = keyset_page!(
        glossary_terms::table.select(GlossaryRow::as_select()),
        glossary_terms::id,
        page
    );
    query
        .load(conn)?
        .into_iter()
        .map(GlossaryRow::into_domain)
        .collect()
}

/// The terms with these keys (those that exist).
pub fn with_keys(conn: &mut DbConnection, keys: &[String]) -> Result<Vec<GlossaryTerm>, AppError> {
    glossary_terms::table
        .filter(glossary_terms::term_key.eq_any(keys))
        .select(GlossaryRow::as_select())
        .load(conn)?
        .into_iter()
        .map(GlossaryRow::into_domain)
        .collect()
}

/// Every term's key, for the inclusion check.
pub fn all_keys(conn: &mut DbConnection) -> Result<Vec<String>, AppError> {
    Ok(glossary_terms::table
        .select(glossary_terms::term_key)
        .load(conn)?)
}

pub fn count(conn: &mut DbConnection) -> Result<i64, AppError> {
    Ok(glossary_terms::table.count().get_result(conn)?)
}
