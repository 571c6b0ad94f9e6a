import { z } from 'zod';

/**
 * user-registrations: one randomuser.me API response per message (the seed's producer publishes what the API
 * returns). Consumer: the registrations function (shared/registrations/registrations.ts), one `users` row
 * per valid result; a result that is not a user is dead-lettered alone. Fields beyond these are kept as
 * they are and not read.
 */
export const randomUserResponse = z.object({
  /** each result is checked apart (randomUserResult), so one bad result does not cost the others */
  results: z.array(z.unknown()).min(1).max(5000),
  info: z.object({}).passthrough().optional(),
});
export type RandomUserResponse = z.infer<typeof randomUserResponse>;

/** One result: the user. login.uuid is its id when present (else a digest of the result). */
export const randomUserResult = z
  .object({
    gender: z.string().max(32),
    name: z.object({ first: z.string().max(256), last: z.string().max(256) }).passthrough(),
    location: z.object({ country: z.string().max(256), postcode: z.union([z.string().max(64), z.number()]) }).passthrough(),
    email: z.string().max(320),
    login: z.object({ uuid: z.string().max(64).optional(), username: z.string().min(1).max(256) }).passthrough(),
    dob: z.object({ date: z.string().max(64) }).passthrough(),
  })
  .passthrough();
export type RandomUserResult = z.infer<typeof randomUserResult>;
