//! SKELETON — to be replaced by the real Zookeeper implementation (see the issue).
//! It compiles and never elects anyone; it exists so the registry and scenario glue compile.

use crate::protocols::Param;
use crate::scenario::FieldError;
use crate::sim::{Ctx, Message, MsgClass, NodeId, NodeStatus, Out, Protocol, TimerKey};

pub const PARAMS: &[Param] = &[];

#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawZookeeper {}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ZookeeperConfig {}

impl RawZookeeper {
    pub fn validate(
        &self,
        nodes: u32,
        _service: &super::coordinator::ServiceConfig,
    ) -> Result<ZookeeperConfig, FieldError> {
        let _ = nodes;
        Ok(ZookeeperConfig {})
    }
}

#[derive(Clone, Debug)]
pub enum ZookeeperMsg {}

impl Message for ZookeeperMsg {
    const KINDS: &'static [&'static str] = &[];
    fn kind(&self) -> usize {
        match *self {}
    }
    fn class(&self) -> MsgClass {
        match *self {}
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ZookeeperTimer {}

impl TimerKey for ZookeeperTimer {
    fn name(&self) -> &'static str {
        match *self {}
    }
}

#[derive(Clone, Debug)]
pub struct Zookeeper;

impl Protocol for Zookeeper {
    type Msg = ZookeeperMsg;
    type Timer = ZookeeperTimer;
    type Durable = ();
    type Config = ZookeeperConfig;
    fn boot(_ctx: &Ctx<'_, ZookeeperConfig>, _d: Option<&()>, _out: &mut Out<Self>) -> Self {
        Zookeeper
    }
    fn on_message(
        &mut self,
        _ctx: &Ctx<'_, ZookeeperConfig>,
        _from: NodeId,
        msg: ZookeeperMsg,
        _out: &mut Out<Self>,
    ) {
        match msg {}
    }
    fn on_timer(
        &mut self,
        _ctx: &Ctx<'_, ZookeeperConfig>,
        t: ZookeeperTimer,
        _out: &mut Out<Self>,
    ) {
        match t {}
    }
    fn status(&self) -> NodeStatus {
        NodeStatus::default()
    }
}
