use hub_core::{HubCtx, HubResult, hub, hub_client};

#[hub_client]
pub trait Client {
    async fn ask(&self, question: String) -> String;
    async fn ask_fallibly(&self, question: String) -> HubResult<u32>;
    async fn notify(&self, message: String);
}

#[hub(client = Client)]
pub trait Questions {
    async fn ask_caller(&self, ctx: &HubCtx, question: String) -> HubResult<String>;
}

struct QuestionsHub;

impl Questions for QuestionsHub {
    async fn ask_caller(&self, ctx: &HubCtx, question: String) -> HubResult<String> {
        let answer: String = ctx.clients().caller().ask(question.clone()).await?;
        let number: u32 = ctx.clients().client(ctx.connection_id()).ask_fallibly(question).await?;
        ctx.clients().all().notify(answer.clone()).await?;
        Ok(format!("{answer} {number}"))
    }
}

fn main() {
    let _ = QuestionsHub.into_hub();
}
