//! The JetStream API's errors, as the data nats-server's `server/errors.json` defines:
//! an HTTP-like `code`, a stable `err_code` clients match on, and a description.
//!
//! Entries are added as the endpoints that return them are built; each keeps nats-server's
//! numbers and text exactly, since clients compare `err_code` and sometimes the text.

use serde::{Deserialize, Serialize};

/// The `error` object of a JetStream API response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// HTTP-like status: 400, 404, 500, 503.
    pub code: u16,
    /// The JetStream error code (`10xxx`).
    pub err_code: u16,
    /// What went wrong.
    pub description: String,
}

/// A JetStream API error; `{err}`-style entries of nats-server carry their text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsError {
    /// JSBadRequestErr.
    #[error("bad request")]
    BadRequest,
    /// JSInvalidJSONErr.
    #[error("invalid JSON")]
    InvalidJson,
    /// JSNotEnabledErr.
    #[error("JetStream not enabled")]
    NotEnabled,
    /// JSNotEnabledForAccountErr.
    #[error("JetStream not enabled for account")]
    NotEnabledForAccount,
    /// JSClusterRequiredErr.
    #[error("JetStream clustering support required")]
    ClusterRequired,
    /// JSStreamNotFoundErr.
    #[error("stream not found")]
    StreamNotFound,
    /// JSStreamNameExistErr.
    #[error("stream name already in use with a different configuration")]
    StreamNameExists,
    /// JSStreamSubjectOverlapErr.
    #[error("subjects overlap with an existing stream")]
    StreamSubjectOverlap,
    /// JSStreamMismatchErr.
    #[error("stream name in subject does not match request")]
    StreamMismatch,
    /// JSStreamNameContainsPathSeparatorsErr.
    #[error("Stream name can not contain path separators")]
    StreamNameContainsPathSeparators,
    /// JSStreamInvalidConfigF: the text says what is invalid.
    #[error("{0}")]
    StreamInvalidConfig(String),
    /// JSStreamReplicasNotSupportedErr.
    #[error("replicas > 1 not supported in non-clustered mode")]
    StreamReplicasNotSupported,
    /// JSReplicasCountCannotBeNegative.
    #[error("replicas count cannot be negative")]
    ReplicasCountCannotBeNegative,
    /// JSMirrorWithSubjectsErr.
    #[error("stream mirrors can not contain subjects")]
    MirrorWithSubjects,
    /// JSMirrorWithSourcesErr.
    #[error("stream mirrors can not also contain other sources")]
    MirrorWithSources,
    /// JSMaximumStreamsLimitErr.
    #[error("maximum number of streams reached")]
    MaximumStreamsLimit,
    /// JSNoMessageFoundErr.
    #[error("no message found")]
    NoMessageFound,
    /// JSStreamMessageExceedsMaximumErr.
    #[error("message size exceeds maximum allowed")]
    StreamMessageExceedsMaximum,
    /// JSStreamSealedErr.
    #[error("invalid operation on sealed stream")]
    StreamSealed,
    /// JSStreamNotMatchErr.
    #[error("expected stream does not match")]
    StreamNotMatch,
    /// JSStreamWrongLastSequenceErrF: the stream's (or subject's) actual last sequence.
    #[error("wrong last sequence: {0}")]
    StreamWrongLastSequence(u64),
    /// JSStreamWrongLastMsgIDErrF: the actual last message id.
    #[error("wrong last msg ID: {0}")]
    StreamWrongLastMsgId(String),
    /// JSStreamHeaderExceedsMaximumErr.
    #[error("header size exceeds maximum allowed of 64k")]
    StreamHeaderExceedsMaximum,
    /// JSStreamStoreFailedF: the store's own error text.
    #[error("{0}")]
    StreamStoreFailed(String),
    /// JSInsufficientResourcesErr.
    #[error("insufficient resources")]
    InsufficientResources,
    /// JSStorageResourcesExceededErr.
    #[error("insufficient storage resources available")]
    StorageResourcesExceeded,
    /// JSMemoryResourcesExceededErr.
    #[error("insufficient memory resources available")]
    MemoryResourcesExceeded,
    /// JSMaximumConsumersLimitErr.
    #[error("maximum consumers limit reached")]
    MaximumConsumersLimit,
    /// JSStreamMaxBytesRequired.
    #[error("account requires a stream config to have max bytes set")]
    StreamMaxBytesRequired,
    /// JSStreamMaxStreamBytesExceeded.
    #[error("stream max bytes exceeds account limit max stream bytes")]
    StreamMaxStreamBytesExceeded,
    /// JSStreamMirrorNotUpdatableErr.
    #[error("stream mirror configuration can not be updated")]
    StreamMirrorNotUpdatable,
    /// JSMirrorMaxMessageSizeTooBigErr.
    #[error("stream mirror must have max message size >= source")]
    MirrorMaxMessageSizeTooBig,
    /// JSSourceMaxMessageSizeTooBigErr.
    #[error("stream source must have max message size >= target")]
    SourceMaxMessageSizeTooBig,
    /// JSStreamInvalidExternalDeliverySubjErrF: the prefix.
    #[error("stream external delivery prefix {0} must not contain wildcards")]
    StreamInvalidExternalDeliverySubject(String),
    /// JSStreamExternalDelPrefixOverlapsErrF: the prefix and the subject it overlaps.
    #[error("stream external delivery prefix {prefix} overlaps with stream subject {subject}")]
    StreamExternalDeliveryPrefixOverlaps {
        /// The delivery prefix.
        prefix: String,
        /// The origin stream's subject.
        subject: String,
    },
    /// JSStreamExternalApiOverlapErrF: the prefix and the API subject.
    #[error("stream external api prefix {prefix} must not overlap with {subject}")]
    StreamExternalApiOverlap {
        /// The API prefix.
        prefix: String,
        /// `$JS.API`.
        subject: String,
    },
    /// JSStreamCreateErrF: a create failure that is not an API error of its own.
    #[error("{0}")]
    StreamCreate(String),
    /// JSStreamGeneralErrorF.
    #[error("{0}")]
    StreamGeneral(String),
    /// JSStreamMsgDeleteFailedF.
    #[error("{0}")]
    StreamMsgDeleteFailed(String),
    /// JSStreamPurgeFailedF.
    #[error("{0}")]
    StreamPurgeFailed(String),
    /// JSStreamRollupFailedF.
    #[error("{0}")]
    StreamRollupFailed(String),
    /// JSSequenceNotFoundErrF: the sequence.
    #[error("sequence {0} not found")]
    SequenceNotFound(u64),
}

impl JsError {
    /// `(code, err_code)` as nats-server's catalogue gives them.
    pub fn codes(&self) -> (u16, u16) {
        match self {
            JsError::BadRequest => (400, 10003),
            JsError::InvalidJson => (400, 10025),
            JsError::NotEnabled => (503, 10076),
            JsError::NotEnabledForAccount => (503, 10039),
            JsError::ClusterRequired => (503, 10010),
            JsError::StreamNotFound => (404, 10059),
            JsError::StreamNameExists => (400, 10058),
            JsError::StreamSubjectOverlap => (400, 10065),
            JsError::StreamMismatch => (400, 10056),
            JsError::StreamNameContainsPathSeparators => (400, 10128),
            JsError::StreamInvalidConfig(_) => (500, 10052),
            JsError::StreamReplicasNotSupported => (500, 10074),
            JsError::ReplicasCountCannotBeNegative => (400, 10133),
            JsError::MirrorWithSubjects => (400, 10034),
            JsError::MirrorWithSources => (400, 10031),
            JsError::MaximumStreamsLimit => (400, 10027),
            JsError::NoMessageFound => (404, 10037),
            JsError::StreamMessageExceedsMaximum => (400, 10054),
            JsError::StreamSealed => (400, 10109),
            JsError::StreamNotMatch => (400, 10060),
            JsError::StreamWrongLastSequence(_) => (400, 10071),
            JsError::StreamWrongLastMsgId(_) => (400, 10070),
            JsError::StreamHeaderExceedsMaximum => (400, 10097),
            JsError::StreamStoreFailed(_) => (503, 10077),
            JsError::InsufficientResources => (503, 10023),
            JsError::StorageResourcesExceeded => (500, 10047),
            JsError::MemoryResourcesExceeded => (500, 10028),
            JsError::MaximumConsumersLimit => (400, 10026),
            JsError::StreamMaxBytesRequired => (400, 10113),
            JsError::StreamMaxStreamBytesExceeded => (400, 10122),
            JsError::StreamMirrorNotUpdatable => (400, 10055),
            JsError::MirrorMaxMessageSizeTooBig => (400, 10030),
            JsError::SourceMaxMessageSizeTooBig => (400, 10046),
            JsError::StreamInvalidExternalDeliverySubject(_) => (400, 10024),
            JsError::StreamExternalDeliveryPrefixOverlaps { .. } => (400, 10022),
            JsError::StreamExternalApiOverlap { .. } => (400, 10021),
            JsError::StreamCreate(_) => (500, 10049),
            JsError::StreamGeneral(_) => (500, 10051),
            JsError::StreamMsgDeleteFailed(_) => (500, 10057),
            JsError::StreamPurgeFailed(_) => (500, 10110),
            JsError::StreamRollupFailed(_) => (500, 10111),
            JsError::SequenceNotFound(_) => (400, 10043),
        }
    }

    /// The error object a JetStream API response carries.
    pub fn to_api_error(&self) -> ApiError {
        let (code, err_code) = self.codes();
        ApiError {
            code,
            err_code,
            description: self.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_errors_serialize_as_nats_server_sends_them() {
        let json = serde_json::to_string(&JsError::StreamNotFound.to_api_error()).unwrap();
        assert_eq!(
            json,
            r#"{"code":404,"err_code":10059,"description":"stream not found"}"#
        );
        let invalid =
            JsError::StreamInvalidConfig("max age needs to be >= 100ms".into()).to_api_error();
        assert_eq!((invalid.code, invalid.err_code), (500, 10052));
        assert_eq!(invalid.description, "max age needs to be >= 100ms");
    }
}
