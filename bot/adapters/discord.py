"""The Discord transport: discord.py over the gateway, with app commands generated from the command table."""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands

from bot.adapters.discord_render import ParleyButton, render, translate_button, translate_interaction, translate_message
from bot.commands import COMMANDS, Command
from bot.core import Bot
from bot.events import Event, Reply

logger = logging.getLogger(__name__)
EPHEMERAL = {"help", "status", "sources", "reindex", "ingest", "settings"}  # answers only the asker needs to see


class DiscordOutbox:
    """Posts and edits messages outside an interaction (reindex progress, scheduled digests)."""

    def __init__(self, client: discord.Client):
        self.client = client

    async def _channel(self, channel: str) -> Any:
        return self.client.get_channel(int(channel)) or await self.client.fetch_channel(int(channel))

    async def post(self, channel: str, reply: Reply, thread: str | None = None) -> str:
        target = await self._channel(channel)
        message = await target.send(**render(reply))
        return str(message.id)

    async def edit(self, channel: str, ref: str, reply: Reply) -> None:
        target = await self._channel(channel)
        await target.get_partial_message(int(ref)).edit(**render(reply))


def _roles(user: discord.abc.User) -> tuple[int, ...]:
    return tuple(r.id for r in getattr(user, "roles", []) or [])


class ParleyClient(discord.Client):
    """A gateway client: mentions and DMs are questions; every command-table entry is an app command."""

    def __init__(self, bot: Bot, *, guild_id: int | None = None, **kwargs: Any):
        intents = discord.Intents.default()
        intents.message_content = True
        super().__init__(intents=intents, allowed_mentions=discord.AllowedMentions.none(), **kwargs)
        self.bot = bot
        self.guild_id = guild_id
        self.tree = app_commands.CommandTree(self)
        for cmd in COMMANDS.values():
            if cmd.slash:
                self.tree.add_command(self._app_command(cmd))
        self.add_dynamic_items(ParleyButton)
        bot.outboxes["discord"] = DiscordOutbox(self)

    async def setup_hook(self) -> None:
        if self.guild_id:
            guild = discord.Object(id=self.guild_id)
            self.tree.copy_global_to(guild=guild)
            await self.tree.sync(guild=guild)
        else:
            await self.tree.sync()

    async def run_command(self, interaction: discord.Interaction, name: str, text: str, public: bool = False) -> None:
        """Defer at once (the 3-second rule), then follow up with the rendered reply; never leave it hanging.
        /ask answers only the asker (with the question echoed and a "Post to channel" button) unless `public`."""
        private = name in EPHEMERAL or (name == "ask" and not public)
        await interaction.response.defer(ephemeral=private, thinking=True)
        event = translate_interaction(name, text, user_id=interaction.user.id, channel_id=interaction.channel_id or 0, roles=_roles(interaction.user))
        reply = await self.bot.handle(event) or Reply.error("Sorry, I could not answer that.", "none")
        private_answer = name == "ask" and private
        payload = render(reply, question=event.text if private_answer else "", share=private_answer and bool(reply.answer_id))
        await interaction.followup.send(**payload, ephemeral=private or reply.ephemeral)

    async def press(self, interaction: discord.Interaction, custom_id: str) -> None:
        """A Parley button: more (page in place), post (to the channel), vote (a thanks only the voter sees)."""
        event = translate_button(custom_id, user_id=interaction.user.id, channel_id=interaction.channel_id or 0, roles=_roles(interaction.user))
        if event is None:
            return
        reply = await self.bot.handle(event) or Reply.error("Sorry, I could not do that.", "none")
        ephemeral_original = bool(interaction.message and interaction.message.flags.ephemeral)
        if event.command == "post" and reply.kind == "answer":
            await interaction.response.send_message(**render(reply))
        elif reply.replace:
            payload = {"view": None, **render(reply, share=ephemeral_original and reply.kind == "answer")}
            await interaction.response.edit_message(**payload)
        else:
            await interaction.response.send_message(**render(reply), ephemeral=True)

    def _app_command(self, cmd: Command) -> app_commands.Command[Any, Any, None]:
        client = self
        description = cmd.summary[:100]
        if cmd.name == "ask":

            async def ask(interaction: discord.Interaction, question: str, public: bool = False) -> None:
                await client.run_command(interaction, "ask", question, public)

            ask_command: app_commands.Command[Any, Any, None] = app_commands.Command(name="ask", description=description, callback=ask)
            ask_command._params["public"].description = "Post the answer to the channel (default: only you see it)"
            return ask_command

        async def run(interaction: discord.Interaction, text: str = "") -> None:
            await client.run_command(interaction, cmd.name, text)

        command: app_commands.Command[Any, Any, None] = app_commands.Command(name=cmd.name, description=description, callback=run)
        command._params["text"].description = f"Usage: {cmd.usage}"[:100]
        if cmd.admin:
            command.default_permissions = discord.Permissions(manage_guild=True)
        return command

    async def on_message(self, message: discord.Message) -> None:
        me = self.user
        if me is None:
            return
        event: Event | None = translate_message(
            message.content,
            author_id=message.author.id,
            channel_id=message.channel.id,
            bot_user_id=me.id,
            is_bot=message.author.bot,
            mentioned=me in message.mentions,
            is_dm=isinstance(message.channel, discord.DMChannel),
            message_id=message.id,
            roles=_roles(message.author),
            reply_to=message.reference.message_id if message.reference else None,
            in_thread=isinstance(message.channel, discord.Thread),
        )
        if event is None or not self.bot.accepts(event):
            return
        try:
            await message.add_reaction("👀")
        except discord.HTTPException:
            logger.warning("could not add the acknowledgement reaction")
        try:
            reply = await self.bot.handle(event) or Reply.error("Sorry, I could not answer that.", "none")
            sent = await message.reply(**render(reply), mention_author=False)
            if event.thread:  # a reply to this answer continues the same conversation
                self.bot.continue_thread(event, str(sent.id))
        finally:
            try:
                await message.remove_reaction("👀", me)
            except discord.HTTPException:
                logger.warning("could not remove the acknowledgement reaction")


async def serve(bot: Bot, *, token: str, guild_id: int | None = None) -> None:
    """Connect to the gateway and answer until cancelled."""
    client = ParleyClient(bot, guild_id=guild_id)
    async with client:
        await client.start(token)
