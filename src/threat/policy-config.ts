// Builds the engine's ThreatPolicy from the config's [policy] section.

import type { Config } from '../config/schema.ts';
import { DEFAULT_POLICY, type RuleMode, type ThreatPolicy } from './engine/policy.ts';
import type { SharedGroups } from './pipeline/context.ts';

/** Config key → rule name (the inspector's name) where they differ. */
const RULE_NAMES: Record<string, string> = { file_offer: 'file-offer' };

export function policyFromConfig(section: Config['policy']): {
  policy: ThreatPolicy;
  sharedGroups: SharedGroups;
} {
  const modes: Record<string, RuleMode> = {};
  for (const [key, mode] of Object.entries(section.modes)) {
    if (mode !== undefined) modes[RULE_NAMES[key] ?? key] = mode;
  }
  const cg = section.content_guard;
  const policy: ThreatPolicy = {
    ...DEFAULT_POLICY,
    modes,
    defaultMode: section.default_mode,
    contentGuard: {
      maxWordBytes: cg.max_word_bytes,
      maxZeroWidthRun: cg.max_zero_width_run,
      maxCombiningRatio: cg.max_combining_ratio,
      maxEmojiRatio: cg.max_emoji_ratio,
      minEmojiCount: cg.min_emoji_count,
    },
    stranger: {
      hourlyLimit: section.stranger.hourly_limit,
      newAccountHourlyLimit: section.stranger.new_account_hourly_limit,
      newAccountDays: section.stranger.new_account_days,
      quarantineAfter: section.stranger.quarantine_after,
      maxHeldPerSender: section.stranger.max_held_per_sender,
      retentionDays: section.stranger.retention_days,
    },
    eventsIncludeText: section.events_include_text,
  };
  const classifier: { hold?: number; label?: number } = {};
  if (section.classifier.hold !== undefined) classifier.hold = section.classifier.hold;
  if (section.classifier.label !== undefined) classifier.label = section.classifier.label;
  if (Object.keys(classifier).length > 0) policy.classifier = classifier;
  const sharedGroups: SharedGroups = {};
  for (const [name, members] of Object.entries(section.shared_groups)) {
    sharedGroups[name] = members.map((m) => m.trim().toLowerCase());
  }
  return { policy, sharedGroups };
}
