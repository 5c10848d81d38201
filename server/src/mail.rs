//! Outgoing email through lettre: SMTP when configured, otherwise `.eml` files in
//! `data_dir/mail`, so a fresh install works and tests can read what was sent.

use lettre::{
    AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, header::ContentType},
    transport::smtp::authentication::Credentials,
};

use crate::config::{MailConfig, MailTransport};

#[derive(Clone)]
enum Transport {
    File(AsyncFileTransport<Tokio1Executor>),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

#[derive(Clone)]
pub struct Mailer {
    from: Mailbox,
    transport: Transport,
}

/// One message to send.
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

impl Mailer {
    pub fn new(config: &MailConfig, data_dir: &std::path::Path) -> anyhow::Result<Self> {
        let from: Mailbox = config.from.parse().map_err(|e| anyhow::anyhow!("mail.from: {e}"))?;
        let transport = match config.transport {
            MailTransport::File => {
                let dir = data_dir.join("mail");
                std::fs::create_dir_all(&dir)?;
                Transport::File(AsyncFileTransport::new(dir))
            }
            MailTransport::Smtp => {
                let host = config.smtp_host.as_str();
                let builder = match config.smtp_security.as_str() {
                    "tls" => AsyncSmtpTransport::<Tokio1Executor>::relay(host)?,
                    "none" => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
                    _ => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)?,
                };
                let mut builder = builder.port(config.smtp_port);
                if !config.smtp_username.is_empty() {
                    builder = builder.credentials(Credentials::new(
                        config.smtp_username.clone(),
                        config.smtp_password.expose().to_string(),
                    ));
                }
                Transport::Smtp(builder.build())
            }
        };
        Ok(Self { from, transport })
    }

    pub async fn send(&self, mail: Mail) -> anyhow::Result<()> {
        let to: Mailbox = mail.to.parse().map_err(|e| anyhow::anyhow!("recipient: {e}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body)?;
        match &self.transport {
            Transport::File(t) => {
                t.send(message).await?;
            }
            Transport::Smtp(t) => {
                t.send(message).await?;
            }
        }
        Ok(())
    }
}
