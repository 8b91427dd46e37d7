import type { Command } from '../args.ts';
import { blockCommands } from './block.ts';
import { checkpointCommands } from './checkpoint.ts';
import { keysCommands } from './keys.ts';
import { logCommands } from './log.ts';
import { mapCommands } from './map.ts';
import { verifyCommand } from './verify.ts';

/** Every command of the CLI, in help order. */
export const COMMANDS: readonly Command[] = [...logCommands, ...mapCommands, verifyCommand, ...keysCommands, ...blockCommands, ...checkpointCommands];
