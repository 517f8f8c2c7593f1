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
    /// JSConsumerNotFoundErr.
    #[error("consumer not found")]
    ConsumerNotFound,
    /// JSConsumerCreateErrF: the text of what failed.
    #[error("{0}")]
    ConsumerCreate(String),
    /// JSConsumerNameExistErr.
    #[error("consumer name already in use")]
    ConsumerNameExists,
    /// JSConsumerDurableNameNotInSubjectErr.
    #[error("consumer expected to be durable but no durable name set in subject")]
    ConsumerDurableNameNotInSubject,
    /// JSConsumerDurableNameNotMatchSubjectErr.
    #[error("consumer name in subject does not match durable name in request")]
    ConsumerDurableNameNotMatchSubject,
    /// JSConsumerDurableNameNotSetErr.
    #[error("consumer expected to be durable but a durable name was not set")]
    ConsumerDurableNameNotSet,
    /// JSConsumerEphemeralWithDurableNameErr.
    #[error("consumer expected to be ephemeral but a durable name was set in request")]
    ConsumerEphemeralWithDurableName,
    /// JSNotEmptyRequestErr.
    #[error("expected an empty request payload")]
    NotEmptyRequest,
    /// JSConsumerDeliverToWildcardsErr.
    #[error("consumer deliver subject has wildcards")]
    ConsumerDeliverToWildcards,
    /// JSConsumerPushMaxWaitingErr.
    #[error("consumer in push mode can not set max waiting")]
    ConsumerPushMaxWaiting,
    /// JSConsumerDeliverCycleErr.
    #[error("consumer deliver subject forms a cycle")]
    ConsumerDeliverCycle,
    /// JSConsumerMaxPendingAckPolicyRequiredErr.
    #[error("consumer requires ack policy for max ack pending")]
    ConsumerMaxPendingAckPolicyRequired,
    /// JSConsumerSmallHeartbeatErr.
    #[error("consumer idle heartbeat needs to be >= 100ms")]
    ConsumerSmallHeartbeat,
    /// JSConsumerPullRequiresAckErr.
    #[error("consumer in pull mode requires ack policy")]
    ConsumerPullRequiresAck,
    /// JSConsumerPullWithRateLimitErr.
    #[error("consumer in pull mode can not have rate limit set")]
    ConsumerPullWithRateLimit,
    /// JSConsumerMaxWaitingNegativeErr.
    #[error("consumer max waiting needs to be positive")]
    ConsumerMaxWaitingNegative,
    /// JSConsumerHBRequiresPushErr.
    #[error("consumer idle heartbeat requires a push based consumer")]
    ConsumerHeartbeatRequiresPush,
    /// JSConsumerFCRequiresPushErr.
    #[error("consumer flow control requires a push based consumer")]
    ConsumerFlowControlRequiresPush,
    /// JSConsumerDirectRequiresPushErr.
    #[error("consumer direct requires a push based consumer")]
    ConsumerDirectRequiresPush,
    /// JSConsumerDirectRequiresEphemeralErr.
    #[error("consumer direct requires an ephemeral consumer")]
    ConsumerDirectRequiresEphemeral,
    /// JSConsumerFilterNotSubsetErr.
    #[error("consumer filter subject is not a valid subset of the interest subjects")]
    ConsumerFilterNotSubset,
    /// JSConsumerInvalidPolicyErrF: the text says which policy conflict.
    #[error("{0}")]
    ConsumerInvalidPolicy(String),
    /// JSConsumerInvalidSamplingErrF: the parse error.
    #[error("failed to parse consumer sampling configuration: {0}")]
    ConsumerInvalidSampling(String),
    /// JSConsumerWQRequiresExplicitAckErr.
    #[error("workqueue stream requires explicit ack")]
    ConsumerWorkQueueRequiresExplicitAck,
    /// JSConsumerWQMultipleUnfilteredErr.
    #[error("multiple non-filtered consumers not allowed on workqueue stream")]
    ConsumerWorkQueueMultipleUnfiltered,
    /// JSConsumerWQConsumerNotUniqueErr.
    #[error("filtered consumer not unique on workqueue stream")]
    ConsumerWorkQueueNotUnique,
    /// JSConsumerWQConsumerNotDeliverAllErr.
    #[error("consumer must be deliver all on workqueue stream")]
    ConsumerWorkQueueNotDeliverAll,
    /// JSConsumerNameTooLongErrF: the maximum.
    #[error("consumer name is too long, maximum allowed is {0}")]
    ConsumerNameTooLong(usize),
    /// JSConsumerBadDurableNameErr.
    #[error("durable name can not contain '.', '*', '>'")]
    ConsumerBadDurableName,
    /// JSConsumerStoreFailedErrF: the store"s error.
    #[error("error creating store for consumer: {0}")]
    ConsumerStoreFailed(String),
    /// JSConsumerExistingActiveErr.
    #[error("consumer already exists and is still active")]
    ConsumerExistingActive,
    /// JSConsumerReplacementWithDifferentNameErr.
    #[error("consumer replacement durable config not the same")]
    ConsumerReplacementWithDifferentName,
    /// JSConsumerDescriptionTooLongErrF: the maximum.
    #[error("consumer description is too long, maximum allowed is {0}")]
    ConsumerDescriptionTooLong(usize),
    /// JSConsumerWithFlowControlNeedsHeartbeats.
    #[error("consumer with flow control also needs heartbeats")]
    ConsumerFlowControlNeedsHeartbeats,
    /// JSConsumerInvalidDeliverSubject.
    #[error("invalid push consumer deliver subject")]
    ConsumerInvalidDeliverSubject,
    /// JSConsumerMaxRequestBatchNegativeErr.
    #[error("consumer max request batch needs to be > 0")]
    ConsumerMaxRequestBatchNegative,
    /// JSConsumerMaxRequestExpiresToSmall.
    #[error("consumer max request expires needs to be >= 1ms")]
    ConsumerMaxRequestExpiresTooSmall,
    /// JSConsumerMaxDeliverBackoffErr.
    #[error("max deliver is required to be > length of backoff values")]
    ConsumerMaxDeliverBackoff,
    /// JSConsumerMaxPendingAckExcessErrF: the limit.
    #[error("consumer max ack pending exceeds system limit of {0}")]
    ConsumerMaxPendingAckExcess(i64),
    /// JSConsumerMaxRequestBatchExceededF: the limit.
    #[error("consumer max request batch exceeds server limit of {0}")]
    ConsumerMaxRequestBatchExceeded(i64),
    /// JSConsumerReplicasExceedsStream.
    #[error("consumer config replica count exceeds parent stream")]
    ConsumerReplicasExceedsStream,
    /// JSConsumerNameContainsPathSeparatorsErr.
    #[error("Consumer name can not contain path separators")]
    ConsumerNameContainsPathSeparators,
    /// JSConsumerCreateFilterSubjectMismatchErr.
    #[error("Consumer create request did not match filtered subject from create subject")]
    ConsumerCreateFilterSubjectMismatch,
    /// JSConsumerCreateDurableAndNameMismatch.
    #[error("Consumer Durable and Name have to be equal if both are provided")]
    ConsumerCreateDurableAndNameMismatch,
    /// JSConsumerReplicasShouldMatchStream.
    #[error("consumer config replicas must match interest retention stream's replicas")]
    ConsumerReplicasShouldMatchStream,
    /// JSConsumerMetadataLengthErrF: the limit as text.
    #[error("consumer metadata exceeds maximum size of {0}")]
    ConsumerMetadataLength(String),
    /// JSConsumerDuplicateFilterSubjects.
    #[error("consumer cannot have both FilterSubject and FilterSubjects specified")]
    ConsumerDuplicateFilterSubjects,
    /// JSConsumerMultipleFiltersNotAllowed.
    #[error("consumer with multiple subject filters cannot use subject based API")]
    ConsumerMultipleFiltersNotAllowed,
    /// JSConsumerOverlappingSubjectFilters.
    #[error("consumer subject filters cannot overlap")]
    ConsumerOverlappingSubjectFilters,
    /// JSConsumerEmptyFilter.
    #[error("consumer filter in FilterSubjects cannot be empty")]
    ConsumerEmptyFilter,
    /// JSConsumerAlreadyExists.
    #[error("consumer already exists")]
    ConsumerAlreadyExists,
    /// JSConsumerDoesNotExist.
    #[error("consumer does not exist")]
    ConsumerDoesNotExist,
    /// JSSnapshotDeliverSubjectInvalidErr.
    #[error("deliver subject not valid")]
    SnapshotDeliverSubjectInvalid,
    /// JSStreamSnapshotErrF.
    #[error("snapshot failed: {0}")]
    StreamSnapshot(String),
    /// JSStreamRestoreErrF.
    #[error("restore failed: {0}")]
    StreamRestore(String),
    /// JSStreamNameExistRestoreFailedErr.
    #[error("stream name already in use, cannot restore")]
    StreamNameExistRestoreFailed,
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
            JsError::ConsumerNotFound => (404, 10014),
            JsError::ConsumerCreate(_) => (500, 10012),
            JsError::ConsumerNameExists => (400, 10013),
            JsError::ConsumerDurableNameNotInSubject => (400, 10016),
            JsError::ConsumerDurableNameNotMatchSubject => (400, 10017),
            JsError::ConsumerDurableNameNotSet => (400, 10018),
            JsError::ConsumerEphemeralWithDurableName => (400, 10020),
            JsError::NotEmptyRequest => (400, 10038),
            JsError::ConsumerDeliverToWildcards => (400, 10079),
            JsError::ConsumerPushMaxWaiting => (400, 10080),
            JsError::ConsumerDeliverCycle => (400, 10081),
            JsError::ConsumerMaxPendingAckPolicyRequired => (400, 10082),
            JsError::ConsumerSmallHeartbeat => (400, 10083),
            JsError::ConsumerPullRequiresAck => (400, 10084),
            JsError::ConsumerPullWithRateLimit => (400, 10086),
            JsError::ConsumerMaxWaitingNegative => (400, 10087),
            JsError::ConsumerHeartbeatRequiresPush => (400, 10088),
            JsError::ConsumerFlowControlRequiresPush => (400, 10089),
            JsError::ConsumerDirectRequiresPush => (400, 10090),
            JsError::ConsumerDirectRequiresEphemeral => (400, 10091),
            JsError::ConsumerFilterNotSubset => (400, 10093),
            JsError::ConsumerInvalidPolicy(_) => (400, 10094),
            JsError::ConsumerInvalidSampling(_) => (400, 10095),
            JsError::ConsumerWorkQueueRequiresExplicitAck => (400, 10098),
            JsError::ConsumerWorkQueueMultipleUnfiltered => (400, 10099),
            JsError::ConsumerWorkQueueNotUnique => (400, 10100),
            JsError::ConsumerWorkQueueNotDeliverAll => (400, 10101),
            JsError::ConsumerNameTooLong(_) => (400, 10102),
            JsError::ConsumerBadDurableName => (400, 10103),
            JsError::ConsumerStoreFailed(_) => (500, 10104),
            JsError::ConsumerExistingActive => (400, 10105),
            JsError::ConsumerReplacementWithDifferentName => (400, 10106),
            JsError::ConsumerDescriptionTooLong(_) => (400, 10107),
            JsError::ConsumerFlowControlNeedsHeartbeats => (400, 10108),
            JsError::ConsumerInvalidDeliverSubject => (400, 10112),
            JsError::ConsumerMaxRequestBatchNegative => (400, 10114),
            JsError::ConsumerMaxRequestExpiresTooSmall => (400, 10115),
            JsError::ConsumerMaxDeliverBackoff => (400, 10116),
            JsError::ConsumerMaxPendingAckExcess(_) => (400, 10121),
            JsError::ConsumerMaxRequestBatchExceeded(_) => (400, 10125),
            JsError::ConsumerReplicasExceedsStream => (400, 10126),
            JsError::ConsumerNameContainsPathSeparators => (400, 10127),
            JsError::ConsumerCreateFilterSubjectMismatch => (400, 10131),
            JsError::ConsumerCreateDurableAndNameMismatch => (400, 10132),
            JsError::ConsumerReplicasShouldMatchStream => (400, 10134),
            JsError::ConsumerMetadataLength(_) => (400, 10135),
            JsError::ConsumerDuplicateFilterSubjects => (400, 10136),
            JsError::ConsumerMultipleFiltersNotAllowed => (400, 10137),
            JsError::ConsumerOverlappingSubjectFilters => (400, 10138),
            JsError::ConsumerEmptyFilter => (400, 10139),
            JsError::ConsumerAlreadyExists => (400, 10148),
            JsError::ConsumerDoesNotExist => (400, 10149),
            JsError::SnapshotDeliverSubjectInvalid => (400, 10015),
            JsError::StreamSnapshot(_) => (500, 10064),
            JsError::StreamRestore(_) => (500, 10062),
            JsError::StreamNameExistRestoreFailed => (400, 10130),
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
