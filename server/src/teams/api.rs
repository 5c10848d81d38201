pub struct TeamsApi;

#[poem_openapi::OpenApi]
impl TeamsApi {}
