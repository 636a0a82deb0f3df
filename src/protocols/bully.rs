//! SKELETON — to be replaced by the real Bully implementation (see the issue).
//! It compiles and never elects anyone; it exists so the registry and scenario glue compile.

use crate::protocols::Param;
use crate::scenario::FieldError;
use crate::sim::{Ctx, Message, MsgClass, NodeId, NodeStatus, Out, Protocol, TimerKey};

pub const PARAMS: &[Param] = &[];

#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBully {}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct BullyConfig {}

impl RawBully {
    pub fn validate(&self, nodes: u32) -> Result<BullyConfig, FieldError> {
        let _ = nodes;
        Ok(BullyConfig {})
    }
}

#[derive(Clone, Debug)]
pub enum BullyMsg {}

impl Message for BullyMsg {
    const KINDS: &'static [&'static str] = &[];
    fn kind(&self) -> usize {
        match *self {}
    }
    fn class(&self) -> MsgClass {
        match *self {}
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BullyTimer {}

impl TimerKey for BullyTimer {
    fn name(&self) -> &'static str {
        match *self {}
    }
}

#[derive(Clone, Debug)]
pub struct Bully;

impl Protocol for Bully {
    type Msg = BullyMsg;
    type Timer = BullyTimer;
    type Durable = ();
    type Config = BullyConfig;
    fn boot(_ctx: &Ctx<'_, BullyConfig>, _d: Option<&()>, _out: &mut Out<Self>) -> Self {
        Bully
    }
    fn on_message(&mut self, _ctx: &Ctx<'_, BullyConfig>, _from: NodeId, msg: BullyMsg, _out: &mut Out<Self>) {
        match msg {}
    }
    fn on_timer(&mut self, _ctx: &Ctx<'_, BullyConfig>, t: BullyTimer, _out: &mut Out<Self>) {
        match t {}
    }
    fn status(&self) -> NodeStatus {
        NodeStatus::default()
    }
}
