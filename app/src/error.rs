//! The one error type that crosses the wire. Every server function returns it; the HTTP layer
//! maps it to a status code; the pages show its message, and a validation error's messages next
//! to their fields.

use serde::{Deserialize, Serialize};
use server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};

/// A message about one input field, shown next to that field.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AppError {
    #[error("Please sign in to continue.")]
    Unauthenticated,
    #[error("You do not have permission to do that.")]
    Forbidden,
    #[error("{what} was not found.")]
    NotFound { what: String },
    #[error("Please correct the highlighted fields.")]
    Validation { fields: Vec<FieldError> },
    #[error("{message}")]
    Conflict { message: String },
    #[error("The request could not be understood: {message}")]
    BadRequest { message: String },
    /// Refused for now: too many attempts, or the server is saturated. Try again after
    /// `retry_after_secs` (also sent as `Retry-After`).
    #[error("{message}")]
    TooManyRequests {
        message: String,
        retry_after_secs: u64,
    },
    #[error("Something went wrong on our side. If it persists, quote request {request_id}.")]
    Internal { request_id: String },
    /// A service the portal depends on (Partner Center, a payment gateway) failed; nothing was
    /// changed.
    #[error("{message}")]
    Upstream { message: String },
    /// The browser could not reach the server (only ever made on the client).
    #[error("The server could not be reached: {message}")]
    Unreachable { message: String },
}

impl AppError {
    pub fn not_found(what: impl Into<String>) -> Self {
        AppError::NotFound { what: what.into() }
    }

    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Validation {
            fields: vec![FieldError {
                field: field.into(),
                message: message.into(),
            }],
        }
    }

    /// The message for `field`, when this is a validation error that names it.
    pub fn field_message(&self, field: &str) -> Option<&str> {
        match self {
            AppError::Validation { fields } => fields
                .iter()
                .find(|f| f.field == field)
                .map(|f| f.message.as_str()),
            _ => None,
        }
    }

    /// The HTTP status this error is answered with.
    pub fn status(&self) -> u16 {
        match self {
            AppError::Unauthenticated => 401,
            AppError::Forbidden => 403,
            AppError::NotFound { .. } => 404,
            AppError::Validation { .. } | AppError::BadRequest { .. } => 400,
            AppError::Conflict { .. } => 409,
            AppError::TooManyRequests { .. } => 429,
            AppError::Internal { .. } => 500,
            AppError::Upstream { .. } => 502,
            AppError::Unreachable { .. } => 503,
        }
    }
}

/// Collects field messages so that every invalid field is reported at once, not one per try.
#[derive(Default)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    /// Keeps the parsed value, or records the message under `field`.
    pub fn check<T>(&mut self, field: &str, parsed: Result<T, String>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(message) => {
                self.0.push(FieldError {
                    field: field.to_owned(),
                    message,
                });
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_result(self) -> Result<(), AppError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(AppError::Validation { fields: self.0 })
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(message)
            | ServerFnErrorErr::MissingArg(message)
            | ServerFnErrorErr::Deserialization(message) => AppError::BadRequest { message },
            ServerFnErrorErr::Request(message) => AppError::Unreachable { message },
            other => AppError::Internal {
                request_id: format!("unrecorded ({other})"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_errors_report_every_invalid_field() {
        let mut errors = FieldErrors::default();
        assert_eq!(errors.check("a", Ok::<_, String>(1)), Some(1));
        assert_eq!(errors.check::<i32>("b", Err("bad b".into())), None);
        assert_eq!(errors.check::<i32>("c", Err("bad c".into())), None);
        let err = errors.into_result().unwrap_err();
        assert_eq!(err.field_message("b"), Some("bad b"));
        assert_eq!(err.field_message("c"), Some("bad c"));
        assert_eq!(err.field_message("a"), None);
        assert_eq!(err.status(), 400);
    }

    #[test]
    fn errors_round_trip_through_their_wire_encoding() {
        let err = AppError::field("name", "Enter a tag name.");
        let back = AppError::de(err.ser());
        assert_eq!(back, err);
    }

    #[test]
    fn malformed_arguments_are_a_bad_request() {
        let err = AppError::from_server_fn_error(ServerFnErrorErr::Args("missing".into()));
        assert_eq!(err.status(), 400);
    }
}
