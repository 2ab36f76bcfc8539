import { z } from 'zod';
import { AccountFactoryError } from './errors';

/**
 * A step received input it cannot read: a wiring bug between the state machine and
 * the handler (not a user's request problem, which is InvalidAccountRequest).
 */
export const InvalidStepInput = class extends AccountFactoryError {
  static readonly errorName = 'InvalidStepInput';
  constructor(message: string) {
    super('InvalidStepInput', message);
  }
};

/** Parses a handler's input at the boundary; throws InvalidStepInput naming each bad field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.map(
    (i) => `${i.path.length ? i.path.map(String).join('.') : '(input)'}: ${i.message}`,
  );
  throw new InvalidStepInput(`${what}: ${issues.join('; ')}`);
}
