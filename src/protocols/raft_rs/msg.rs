//! raft-rs's wire message as an electsim message: one `eraftpb::Message` per electsim
//! message, its kind the `MessageType` name.

use crate::sim::{Message, MsgClass};
use raft::eraftpb::{self, MessageType};
use std::fmt;

/// One raft-rs message in flight (raft ids inside, electsim node + 1).
#[derive(Clone, PartialEq)]
pub struct RaftRsMsg(pub eraftpb::Message);

/// The message types that travel between nodes, in [`Message::KINDS`] order. raft-rs's
/// local types (MsgHup, MsgBeat, MsgPropose, MsgUnreachable, MsgSnapStatus,
/// MsgCheckQuorum) never leave a node.
const WIRE: [MessageType; 13] = [
    MessageType::MsgRequestPreVote,
    MessageType::MsgRequestPreVoteResponse,
    MessageType::MsgRequestVote,
    MessageType::MsgRequestVoteResponse,
    MessageType::MsgHeartbeat,
    MessageType::MsgHeartbeatResponse,
    MessageType::MsgAppend,
    MessageType::MsgAppendResponse,
    MessageType::MsgSnapshot,
    MessageType::MsgTransferLeader,
    MessageType::MsgTimeoutNow,
    MessageType::MsgReadIndex,
    MessageType::MsgReadIndexResp,
];

impl Message for RaftRsMsg {
    const KINDS: &'static [&'static str] = &[
        "MsgRequestPreVote",
        "MsgRequestPreVoteResponse",
        "MsgRequestVote",
        "MsgRequestVoteResponse",
        "MsgHeartbeat",
        "MsgHeartbeatResponse",
        "MsgAppend",
        "MsgAppendResponse",
        "MsgSnapshot",
        "MsgTransferLeader",
        "MsgTimeoutNow",
        "MsgReadIndex",
        "MsgReadIndexResp",
        "MsgLocal",
    ];
    fn kind(&self) -> usize {
        let t = self.0.get_msg_type();
        WIRE.iter().position(|&w| w == t).unwrap_or(WIRE.len())
    }
    fn class(&self) -> MsgClass {
        use MessageType::*;
        match self.0.get_msg_type() {
            MsgRequestPreVote
            | MsgRequestPreVoteResponse
            | MsgRequestVote
            | MsgRequestVoteResponse
            | MsgTimeoutNow
            | MsgTransferLeader => MsgClass::Election,
            MsgHeartbeat | MsgHeartbeatResponse | MsgAppend | MsgAppendResponse => {
                MsgClass::Heartbeat
            }
            _ => MsgClass::Other,
        }
    }
    fn term(&self) -> Option<u64> {
        Some(self.0.term)
    }
    /// (Pre-)vote responses that do not grant.
    fn refused(&self) -> bool {
        use MessageType::*;
        matches!(
            self.0.get_msg_type(),
            MsgRequestVoteResponse | MsgRequestPreVoteResponse
        ) && self.0.reject
    }
}

/// Compact: the type and the fields an election reads (golden scripts match on it).
impl fmt::Debug for RaftRsMsg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = &self.0;
        write!(
            f,
            "{:?} {{ term: {}, log_term: {}, index: {}, commit: {}, entries: {}, reject: {} }}",
            m.get_msg_type(),
            m.term,
            m.log_term,
            m.index,
            m.commit,
            m.entries.len(),
            m.reject
        )
    }
}
