import { ALL_TOPICS, asyncApiDocument } from '../../contracts/index.ts';
import type { Command } from '../command.ts';
import { EXIT } from '../command.ts';

export const asyncapiCommand: Command = {
  name: 'asyncapi',
  summary: 'Print the AsyncAPI 3 document of every topic, generated from the typed topic handles',
  usage: 'asyncapi',
  run(ctx) {
    ctx.stdout.write(`${JSON.stringify(asyncApiDocument(ALL_TOPICS, '0.1.0'), null, 2)}\n`);
    return Promise.resolve(EXIT.ok);
  },
};
