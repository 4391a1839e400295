//! `idc-report`: audit AWS IAM Identity Center across an AWS Organization.
//!
//! Data flows one way: [`config`] -> [`collect`] (Organizations, STS, Identity Center,
//! Identity Store) -> an in-memory [`model::Inventory`] -> pure [`analysis`] ->
//! [`report`] writers -> [`sink`]s (S3, a local folder). [`run`] strings them together;
//! [`handler`] is the Lambda entry point and the command shares the same run.

pub mod analysis;
pub mod collect;
pub mod config;
pub mod continuation;
pub mod event;
pub mod handler;
pub mod logging;
pub mod lookup;
pub mod model;
pub mod report;
pub mod run;
pub mod sink;
