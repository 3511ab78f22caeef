//! Engine events into JavaScript through one threadsafe function with a
//! bounded queue, called non-blocking: when JS falls behind, events are
//! dropped and counted (`events_dropped`) rather than stalling a data-plane
//! thread. Weak, so it never keeps the Node process alive by itself.

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};

use super::convert::EngineEvent;
use crate::event::{Event, EventSink};

const MAX_QUEUED_EVENTS: usize = 1024;

pub struct JsSink(
    ThreadsafeFunction<EngineEvent, (), EngineEvent, Status, false, true, MAX_QUEUED_EVENTS>,
);

impl JsSink {
    pub fn new(callback: &Function<EngineEvent, ()>) -> Result<Self> {
        let tsfn = callback
            .build_threadsafe_function()
            .callee_handled::<false>()
            .weak::<true>()
            .max_queue_size::<MAX_QUEUED_EVENTS>()
            .build()?;
        Ok(JsSink(tsfn))
    }
}

impl EventSink for JsSink {
    fn emit(&self, event: Event) -> bool {
        self.0.call(
            EngineEvent::from(event),
            ThreadsafeFunctionCallMode::NonBlocking,
        ) == Status::Ok
    }
}
