//! Runs the units of a collection: stores and applications ahead of accounts still
//! waiting, the lane with the most work queued first, at most `max_concurrency`
//! units per lane and twice that in all. Requests in flight are bounded separately
//! (`Calls::with_concurrency`), so the unit bounds only keep memory in check and keep
//! one busy lane (thousands of rate-limited calls on the management account) from
//! taking every unit slot: other accounts' reads go on beside it.
//!
//! A resumable run (with checkpointing) does not write what the deadline leaves undone
//! as errors: it stops there, and its last snapshot holds the units queued and those
//! that were running (saved when they started, to be run again from their start).

use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

use serde_json::value::RawValue;
use tokio::sync::mpsc;
use tokio::task::{Id, JoinSet};
use tokio::time::Instant;

use crate::model::{AccountError, AccountId, ErrorCode};

use super::call::{CallError, FailureKind};
use super::checkpoint::{self, CheckpointFileError, Checkpointing, PendingRef, SavedFile, SnapshotRef};
use super::organizations::AccountPage;
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
    /// The unit as it was when it started, in a resumable run (`None` if it could
    /// not be encoded: the next snapshot then fails rather than lose it).
    spec: Option<Box<RawValue>>,
}

/// Why the scheduler stopped.
#[derive(Debug, PartialEq, Eq)]
pub enum Stop {
    Finished,
    /// A resumable run reached its deadline; [`Scheduler::snapshot`] saves it.
    Suspended,
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
    checkpointing: Option<Checkpointing>,
    /// Where periodic snapshots go (to be saved while the run goes on).
    saves: Option<mpsc::Sender<SavedFile>>,
    next_save: Option<Instant>,
    /// Units ended and pages of accounts taken in: whether this run got anywhere.
    progress: u64,
}

impl Scheduler {
    pub fn new(
        context: Arc<Context>,
        state: State,
        checkpointing: Option<(Checkpointing, mpsc::Sender<SavedFile>)>,
    ) -> Self {
        let lane_limit = context.plan.max_concurrency.max(1);
        let (checkpointing, saves) = checkpointing.unzip();
        let next_save = checkpointing.as_ref().map(|c| Instant::now() + c.interval);
        Scheduler {
            checkpointing,
            saves,
            next_save,
            progress: 0,
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
        pages: &mut mpsc::UnboundedReceiver<Result<AccountPage, CallError>>,
    ) -> Result<Stop, CallError> {
        let resumable = self.checkpointing.is_some();
        loop {
            self.take_queued();
            self.start_units();
            let listing = !self.state.listing_done();
            if !listing && self.running.is_empty() && self.queued == 0 {
                return Ok(Stop::Finished);
            }
            let stop_at = self.context.plan.stop_at;
            if resumable && stop_at.is_some_and(|stop| Instant::now() >= stop) {
                return Ok(Stop::Suspended);
            }
            tokio::select! {
                page = pages.recv(), if listing => match page {
                    Some(Ok((accounts, next))) => {
                        self.progress += 1;
                        self.state.add_accounts(accounts, next);
                    }
                    Some(Err(err)) if err.kind == FailureKind::DeadlineReached => {
                        self.state.listing_stopped(err.to_string());
                    }
                    Some(Err(err)) => return Err(err),
                    None => self.state.finish_listing(),
                },
                () = until(stop_at), if listing && !resumable => {
                    self.state.listing_stopped("a page was still being read".into());
                }
                // A resumable run stops at the deadline (at the top of the loop).
                () = until(stop_at), if resumable => {}
                () = until(self.next_save), if resumable => self.save_periodically(),
                Some(joined) = self.running.join_next_with_id(), if !self.running.is_empty() => match joined {
                    Ok((id, fold)) => {
                        self.progress += 1;
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

    /// Units ended and pages of accounts taken in so far.
    pub fn progress(&self) -> u64 {
        self.progress
    }

    /// Stops the units still running (a suspended run): their calls end here, so the
    /// rate slots a snapshot saves count every call made. Their specs stay, for the
    /// snapshot.
    pub fn stop_running(&mut self) {
        self.running.abort_all();
    }

    /// Writes a snapshot of the run to a file: the state, every unit not done (queued,
    /// or running: saved as it started), the rate limits.
    pub fn snapshot(&self) -> Result<SavedFile, CheckpointFileError> {
        let Some(checkpointing) = &self.checkpointing else {
            return Err(CheckpointFileError::Encode(serde::ser::Error::custom(
                "this run does not checkpoint",
            )));
        };
        let mut pending: Vec<PendingRef<'_>> = self.state.queued_units().map(PendingRef::Queued).collect();
        for queue in self.lanes.values() {
            pending.extend(queue.units.iter().map(|(_, unit)| PendingRef::Queued(unit.as_ref())));
        }
        for label in self.labels.values() {
            match &label.spec {
                Some(spec) => pending.push(PendingRef::Started(spec)),
                None => {
                    return Err(CheckpointFileError::Encode(serde::ser::Error::custom(format!(
                        "a running unit of lane {:?} could not be saved",
                        label.lane
                    ))));
                }
            }
        }
        let snapshot = SnapshotRef {
            format: checkpoint::FORMAT,
            run: &checkpointing.run,
            management_account_id: &self.context.management_account_id,
            state: self.state.record(),
            pending,
            rate_slots: self.context.calls.rate_slots(),
        };
        checkpoint::write(&snapshot)
    }

    /// A periodic snapshot, handed to the saver unless it is still saving the last one
    /// (then this one is skipped: the next will be newer anyway).
    fn save_periodically(&mut self) {
        let interval = self.checkpointing.as_ref().map(|c| c.interval);
        self.next_save = interval.map(|i| Instant::now() + i);
        let Some(saves) = &self.saves else {
            return;
        };
        let Ok(permit) = saves.try_reserve() else {
            tracing::debug!(
                phase = "checkpoint",
                "the last checkpoint is still being saved: this one is skipped"
            );
            return;
        };
        match self.snapshot() {
            Ok(saved) => permit.send(saved),
            Err(error) => tracing::warn!(phase = "checkpoint", %error, "a periodic checkpoint could not be written"),
        }
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
        let past_deadline = self.context.plan.stop_at.is_some_and(|stop| Instant::now() >= stop);
        if past_deadline && self.checkpointing.is_some() {
            // Left queued, for the snapshot.
            return;
        }
        if past_deadline {
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
        let spec = self.checkpointing.as_ref().and_then(|_| {
            serde_json::value::to_raw_value(unit.as_ref())
                .inspect_err(|error| tracing::error!(phase = "checkpoint", %error, "a unit could not be encoded"))
                .ok()
        });
        let running = super::call::keeping_permit(unit.run(Arc::clone(&self.context)));
        // A resumable run's units are not raced against the deadline: the scheduler
        // stops there, and drops (aborts) those still running.
        let stop_at = self.context.plan.stop_at.filter(|_| self.checkpointing.is_none());
        let handle = match stop_at {
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
        self.labels.insert(
            handle.id(),
            Label {
                lane,
                not_reached,
                spec,
            },
        );
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
