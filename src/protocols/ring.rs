//! SKELETON — to be replaced by the real Ring implementation (see the issue).
//! It compiles and never elects anyone; it exists so the registry and scenario glue compile.

use crate::protocols::Param;
use crate::scenario::FieldError;
use crate::sim::{Ctx, Message, MsgClass, NodeId, NodeStatus, Out, Protocol, TimerKey};

pub const PARAMS: &[Param] = &[];

#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRing {}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct RingConfig {}

impl RawRing {
    pub fn validate(&self, nodes: u32) -> Result<RingConfig, FieldError> {
        let _ = nodes;
        Ok(RingConfig {})
    }
}

#[derive(Clone, Debug)]
pub enum RingMsg {}

impl Message for RingMsg {
    const KINDS: &'static [&'static str] = &[];
    fn kind(&self) -> usize {
        match *self {}
    }
    fn class(&self) -> MsgClass {
        match *self {}
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RingTimer {}

impl TimerKey for RingTimer {
    fn name(&self) -> &'static str {
        match *self {}
    }
}

#[derive(Clone, Debug)]
pub struct Ring;

impl Protocol for Ring {
    type Msg = RingMsg;
    type Timer = RingTimer;
    type Durable = ();
    type Config = RingConfig;
    fn boot(_ctx: &Ctx<'_, RingConfig>, _d: Option<&()>, _out: &mut Out<Self>) -> Self {
        Ring
    }
    fn on_message(&mut self, _ctx: &Ctx<'_, RingConfig>, _from: NodeId, msg: RingMsg, _out: &mut Out<Self>) {
        match msg {}
    }
    fn on_timer(&mut self, _ctx: &Ctx<'_, RingConfig>, t: RingTimer, _out: &mut Out<Self>) {
        match t {}
    }
    fn status(&self) -> NodeStatus {
        NodeStatus::default()
    }
}
