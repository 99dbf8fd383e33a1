use hub_core::{HubCtx, HubResult, hub, hub_client};

#[hub_client]
pub trait Client {
    async fn ask(&self, question: String) -> String;
}

#[hub(client = Client)]
pub trait Questions {
    async fn ask_everyone(&self, ctx: &HubCtx, question: String) -> HubResult<String>;
}

struct QuestionsHub;

impl Questions for QuestionsHub {
    async fn ask_everyone(&self, ctx: &HubCtx, question: String) -> HubResult<String> {
        // A client result needs exactly one connection.
        ctx.clients().all().ask(question).await
    }
}

fn main() {
    let _ = QuestionsHub.into_hub();
}
