//! Who is calling: a verified token, and for machine clients a check that the client still
//! stands (revoking a client stops its tokens at once, on every instance).

use super::Services;
use crate::db;
use crate::domain::identity::Principal;
use crate::error::AppError;

/// Verifies a bearer token and returns the caller, and says until when the token holds (a
/// subscription ends then).
pub async fn authenticate_session(
    services: &Services,
    token: &str,
) -> Result<(Principal, chrono::DateTime<chrono::Utc>), AppError> {
    admit(services, services.tokens.verify_with_expiry(token)?).await
}

/// The caller of a token already verified ([`crate::auth::TokenAuthority::verify_with_expiry`]
/// gave `verified`), once the caller is checked to still stand: a person's link to their
/// profile, a machine client not revoked.
pub async fn admit(
    services: &Services,
    verified: (Principal, i64),
) -> Result<(Principal, chrono::DateTime<chrono::Utc>), AppError> {
    let (mut principal, exp) = verified;
    let expires = chrono::DateTime::from_timestamp(exp, 0)
        .ok_or_else(|| AppError::Unauthenticated("the token's exp is out of range".to_owned()))?;
    // A person signed in with their own identity provider carries no `participant_id` claim:
    // the link made on their profile names them.
    if principal.has(crate::domain::identity::Role::Participant)
        && principal.participant_id.is_none()
    {
        principal.participant_id =
            super::participants::linked_to(services, &principal.subject).await?;
    }
    if let Some(client_id) = principal.client_id {
        let Some(org) = principal.organisation_id else {
            return Err(AppError::Unauthenticated(
                "the token names a client but no organisation".to_owned(),
            ));
        };
        let active = services
            .db
            .read(move |conn| db::api_clients::is_active(conn, client_id, org))
            .await?;
        if !active {
            return Err(AppError::Unauthenticated(
                "the client this token was issued to has been revoked".to_owned(),
            ));
        }
    }
    Ok((principal, expires))
}

/// Refuses callers who are not platform admins.
pub fn require_admin(principal: &Principal, what: &str) -> Result<(), AppError> {
    if principal.is_admin() {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!(
            "only platform admins can {what}"
        )))
    }
}
