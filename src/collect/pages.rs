//! Pagination: follow `NextToken` until the service stops sending one.
//!
//! An empty page that still carries a token is not the end (Organizations does this).
//! A service that answers with the very token it was sent would be followed for ever:
//! that is an error (as in the SDK's own paginators), which the caller reports as a
//! failed read of what it was listing.

use std::future::Future;

use super::call::{CallError, FailureKind, Service};

/// The error code of a list that stopped because the service repeated its `NextToken`.
pub const REPEATED_NEXT_TOKEN: &str = "RepeatedNextToken";

/// Calls `fetch` with each page's token (`None` first) and gathers the items.
/// `fetch` returns a page's items and its next token; `service` and `operation` name
/// the call in the error when the service repeats the token it was sent.
pub async fn all_pages<T, F, Fut>(service: Service, operation: &'static str, fetch: F) -> Result<Vec<T>, CallError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, Option<String>), CallError>>,
{
    all_pages_from(None, service, operation, fetch).await
}

/// Like [`all_pages`], from the page `start` names (a listing resumed).
pub async fn all_pages_from<T, F, Fut>(
    start: Option<String>,
    service: Service,
    operation: &'static str,
    mut fetch: F,
) -> Result<Vec<T>, CallError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, Option<String>), CallError>>,
{
    let mut items = Vec::new();
    let mut token: Option<String> = start;
    for page_number in 1u64.. {
        let sent = token.take();
        let (mut page, next) = fetch(sent.clone()).await?;
        items.append(&mut page);
        match next {
            Some(next) if !next.is_empty() => {
                if sent.as_deref() == Some(next.as_str()) {
                    return Err(CallError {
                        service: service.as_str(),
                        operation,
                        kind: FailureKind::Rejected,
                        code: REPEATED_NEXT_TOKEN.into(),
                        message: format!(
                            "page {page_number} came back with the NextToken it was requested with; \
                             stopped rather than loop for ever, so this list is incomplete"
                        ),
                        attempts: 1,
                    });
                }
                token = Some(next);
            }
            _ => break,
        }
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Serves `pages` in order and records the tokens it was called with.
    async fn serve(pages: &[(Vec<u32>, Option<&str>)]) -> (Result<Vec<u32>, CallError>, Vec<Option<String>>) {
        let mut seen_tokens = Vec::new();
        let result = all_pages(Service::IdentityStore, "ListUsers", |token| {
            seen_tokens.push(token.clone());
            let (items, next) = pages[seen_tokens.len() - 1].clone();
            async move { Ok((items, next.map(str::to_owned))) }
        })
        .await;
        (result, seen_tokens)
    }

    #[tokio::test]
    async fn follows_tokens_through_empty_pages() {
        let (items, seen_tokens) = serve(&[
            (vec![1, 2], Some("a")),
            (vec![], Some("b")),
            (vec![3], Some("")),
            (vec![9], None),
        ])
        .await;
        assert_eq!(items.unwrap(), vec![1, 2, 3]);
        assert_eq!(seen_tokens, vec![None, Some("a".to_owned()), Some("b".to_owned())]);
    }

    #[tokio::test]
    async fn a_repeated_next_token_is_an_error_not_an_endless_loop() {
        // Page 2 answers with the token it was sent; page 3 would be served for ever.
        let (result, seen_tokens) = serve(&[
            (vec![1], Some("a")),
            (vec![2], Some("a")),
            (vec![3], Some("a")),
            (vec![4], None),
        ])
        .await;
        let err = result.unwrap_err();
        assert_eq!(seen_tokens, vec![None, Some("a".to_owned())]);
        assert_eq!(err.code, REPEATED_NEXT_TOKEN);
        assert_eq!(err.kind, FailureKind::Rejected);
        assert_eq!((err.service, err.operation), ("identitystore", "ListUsers"));
        assert_eq!(err.error_code(), crate::model::ErrorCode::ServiceError);
        assert!(err.message.contains("page 2"), "{}", err.message);
        // A token seen before but not the one just sent is followed (A, B, A is legal).
        let (items, _) = serve(&[
            (vec![1], Some("a")),
            (vec![2], Some("b")),
            (vec![3], Some("a")),
            (vec![4], None),
        ])
        .await;
        assert_eq!(items.unwrap(), vec![1, 2, 3, 4]);
    }
}
