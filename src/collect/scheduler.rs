//! Runs the units of a collection: stores and applications ahead of accounts still
//! waiting, the lane with the most work queued first, at most `max_concurrency`
//! units per lane and twice that in all. Requests in flight are bounded separately
//! (`Calls::with_concurrency`), so the unit bounds only keep memory in check and keep
//! one busy lane (thousands of rate-limited calls on the management account) from
//! taking every unit slot: other accounts' reads go on beside it.

use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::{Id, JoinSet};
use tokio::time::Instant;

use crate::model::{Account, AccountError, AccountId, ErrorCode};

use super::call::{CallError, FailureKind};
use super::state::{Context, State};
use super::work::{Fold, Lane, Priority, Unit};

/// The order lanes are served in: priority of the unit at the head, most units
/// queued, then first come.
type ReadyKey = (Priority, Reverse<usize>, u64, Lane);

#[derive(Default)]
struct LaneQueue {
    units: VecDeque<(u64, Box<dyn Unit>)>,
    running: usize,
    /// Its key in the ready set, when it has work and room.
    ready: Option<ReadyKey>,
}

/// What the scheduler keeps of a running unit, to account for it when it ends.
struct Label {
    lane: Lane,
    not_reached: AccountError,
}

pub struct Scheduler {
    context: Arc<Context>,
    state: State,
    lanes: HashMap<Lane, LaneQueue>,
    ready: BTreeSet<ReadyKey>,
    running: JoinSet<Fold>,
    labels: HashMap<Id, Label>,
    queued: usize,
    sequence: u64,
    lane_limit: usize,
    total_limit: usize,
}

impl Scheduler {
    pub fn new(context: Arc<Context>, state: State) -> Self {
        let lane_limit = context.plan.max_concurrency.max(1);
        Scheduler {
            context,
            state,
            lanes: HashMap::new(),
            ready: BTreeSet::new(),
            running: JoinSet::new(),
            labels: HashMap::new(),
            queued: 0,
            sequence: 0,
            lane_limit,
            total_limit: lane_limit * 2,
        }
    }

    /// Runs until the organization is listed and every unit is done; fails as soon as
    /// the account listing fails.
    pub async fn run(
        &mut self,
        pages: &mut mpsc::UnboundedReceiver<Result<Vec<Account>, CallError>>,
    ) -> Result<(), CallError> {
        loop {
            self.take_queued();
            self.start_units();
            let listing = !self.state.listing_done();
            if !listing && self.running.is_empty() && self.queued == 0 {
                return Ok(());
            }
            let stop_at = self.context.plan.stop_at;
            tokio::select! {
                page = pages.recv(), if listing => match page {
                    Some(Ok(accounts)) => self.state.add_accounts(accounts),
                    Some(Err(err)) if err.kind == FailureKind::DeadlineReached => {
                        self.state.listing_stopped(err.to_string());
                    }
                    Some(Err(err)) => return Err(err),
                    None => self.state.finish_listing(),
                },
                () = until(stop_at), if listing => {
                    self.state.listing_stopped("a page was still being read".into());
                }
                Some(joined) = self.running.join_next_with_id(), if !self.running.is_empty() => match joined {
                    Ok((id, fold)) => {
                        self.finished(id);
                        fold(&mut self.state);
                    }
                    Err(err) => {
                        // A unit panicked or was cancelled: record it against its account.
                        if let Some(mut row) = self.finished(err.id()) {
                            row.code = ErrorCode::ServiceError;
                            row.message = format!("internal error while reading: {err}");
                            self.state.error(row);
                        }
                    }
                },
            }
        }
    }

    pub fn finish(self) -> super::Collected {
        self.state.finish()
    }

    /// Moves the units folds queued into their lanes.
    fn take_queued(&mut self) {
        for unit in self.state.take_queued() {
            let lane = unit.lane();
            self.sequence += 1;
            self.queued += 1;
            self.lanes
                .entry(lane.clone())
                .or_default()
                .units
                .push_back((self.sequence, unit));
            self.refresh(&lane);
        }
    }

    /// Puts a lane in the ready set, or takes it out, as its queue and room say.
    fn refresh(&mut self, lane: &Lane) {
        let Some(queue) = self.lanes.get_mut(lane) else {
            return;
        };
        if let Some(key) = queue.ready.take() {
            self.ready.remove(&key);
        }
        if queue.running < self.lane_limit
            && let Some((sequence, head)) = queue.units.front()
        {
            let key = (head.priority(), Reverse(queue.units.len()), *sequence, lane.clone());
            self.ready.insert(key.clone());
            queue.ready = Some(key);
        }
        if queue.units.is_empty() && queue.running == 0 {
            self.lanes.remove(lane);
        }
    }

    /// Starts queued units while there is room; past the deadline, records every
    /// queued unit as not reached.
    fn start_units(&mut self) {
        if self.context.plan.stop_at.is_some_and(|stop| Instant::now() >= stop) {
            for (_, queue) in self.lanes.iter_mut() {
                for (_, unit) in queue.units.drain(..) {
                    self.state
                        .not_reached(unit.not_reached(), unit.audited_account().cloned());
                }
                queue.ready = None;
            }
            self.ready.clear();
            self.queued = 0;
            self.lanes.retain(|_, queue| queue.running > 0);
            return;
        }
        while self.running.len() < self.total_limit {
            let Some(key) = self.ready.pop_first() else {
                break;
            };
            let lane = key.3;
            let Some(queue) = self.lanes.get_mut(&lane) else {
                continue;
            };
            queue.ready = None;
            let Some((_, unit)) = queue.units.pop_front() else {
                continue;
            };
            queue.running += 1;
            self.queued -= 1;
            self.spawn(lane.clone(), unit);
            self.refresh(&lane);
        }
    }

    /// Spawns a unit, raced against the deadline.
    fn spawn(&mut self, lane: Lane, unit: Box<dyn Unit>) {
        let not_reached = unit.not_reached();
        let account: Option<AccountId> = unit.audited_account().cloned();
        let running = super::call::keeping_permit(unit.run(Arc::clone(&self.context)));
        let handle = match self.context.plan.stop_at {
            None => self.running.spawn(running),
            Some(stop) => {
                let row = not_reached.clone();
                self.running.spawn(async move {
                    tokio::select! {
                        fold = running => fold,
                        () = tokio::time::sleep_until(stop) => {
                            Box::new(move |state: &mut State| state.not_reached(row, account)) as Fold
                        }
                    }
                })
            }
        };
        self.labels.insert(handle.id(), Label { lane, not_reached });
    }

    /// A unit ended: frees its lane's slot; returns its deadline row for the caller
    /// to adapt if it ended badly.
    fn finished(&mut self, id: Id) -> Option<AccountError> {
        let label = self.labels.remove(&id)?;
        if let Some(queue) = self.lanes.get_mut(&label.lane) {
            queue.running = queue.running.saturating_sub(1);
        }
        self.refresh(&label.lane);
        Some(label.not_reached)
    }
}

/// Sleeps until `stop`, or forever when there is none.
async fn until(stop: Option<Instant>) {
    match stop {
        Some(stop) => tokio::time::sleep_until(stop).await,
        None => std::future::pending().await,
    }
}
