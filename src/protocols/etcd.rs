//! SKELETON — to be replaced by the real Etcd implementation (see the issue).
//! It compiles and never elects anyone; it exists so the registry and scenario glue compile.

use crate::protocols::Param;
use crate::scenario::FieldError;
use crate::sim::{Ctx, Message, MsgClass, NodeId, NodeStatus, Out, Protocol, TimerKey};

pub const PARAMS: &[Param] = &[];

#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEtcd {}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct EtcdConfig {}

impl RawEtcd {
    pub fn validate(
        &self,
        nodes: u32,
        _service: &super::coordinator::ServiceConfig,
    ) -> Result<EtcdConfig, FieldError> {
        let _ = nodes;
        Ok(EtcdConfig {})
    }
}

#[derive(Clone, Debug)]
pub enum EtcdMsg {}

impl Message for EtcdMsg {
    const KINDS: &'static [&'static str] = &[];
    fn kind(&self) -> usize {
        match *self {}
    }
    fn class(&self) -> MsgClass {
        match *self {}
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EtcdTimer {}

impl TimerKey for EtcdTimer {
    fn name(&self) -> &'static str {
        match *self {}
    }
}

#[derive(Clone, Debug)]
pub struct Etcd;

impl Protocol for Etcd {
    type Msg = EtcdMsg;
    type Timer = EtcdTimer;
    type Durable = ();
    type Config = EtcdConfig;
    fn boot(_ctx: &Ctx<'_, EtcdConfig>, _d: Option<&()>, _out: &mut Out<Self>) -> Self {
        Etcd
    }
    fn on_message(
        &mut self,
        _ctx: &Ctx<'_, EtcdConfig>,
        _from: NodeId,
        msg: EtcdMsg,
        _out: &mut Out<Self>,
    ) {
        match msg {}
    }
    fn on_timer(&mut self, _ctx: &Ctx<'_, EtcdConfig>, t: EtcdTimer, _out: &mut Out<Self>) {
        match t {}
    }
    fn status(&self) -> NodeStatus {
        NodeStatus::default()
    }
}
