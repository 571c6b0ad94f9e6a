/** A camelCase key as snake_case (Terraform's names, Firestore collections): `fineReviews` → `fine_reviews`. */
export const snakeCase = (key: string): string => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
