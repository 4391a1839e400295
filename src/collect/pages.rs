//! Pagination: follow `NextToken` until the service stops sending one.
//!
//! An empty page that still carries a token is not the end (Organizations does this).

use std::future::Future;

use super::call::CallError;

/// Calls `fetch` with each page's token (`None` first) and gathers the items.
/// `fetch` returns a page's items and its next token.
pub async fn all_pages<T, F, Fut>(mut fetch: F) -> Result<Vec<T>, CallError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, Option<String>), CallError>>,
{
    let mut items = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let (mut page, next) = fetch(token.take()).await?;
        items.append(&mut page);
        match next {
            Some(next) if !next.is_empty() => token = Some(next),
            _ => return Ok(items),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn follows_tokens_through_empty_pages() {
        let pages: Vec<(Vec<u32>, Option<&str>)> = vec![
            (vec![1, 2], Some("a")),
            (vec![], Some("b")),
            (vec![3], Some("")),
            (vec![9], None),
        ];
        let mut seen_tokens = Vec::new();
        let items = all_pages(|token| {
            seen_tokens.push(token.clone());
            let index = seen_tokens.len() - 1;
            let (items, next) = pages[index].clone();
            async move { Ok((items, next.map(str::to_owned))) }
        })
        .await
        .unwrap();
        assert_eq!(items, vec![1, 2, 3]);
        assert_eq!(seen_tokens, vec![None, Some("a".to_owned()), Some("b".to_owned())]);
    }
}
