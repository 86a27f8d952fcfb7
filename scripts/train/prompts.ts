// Text-only prompts the tiny models answer with their introduction (kept equal to pictures.py's list).
export const TEXT_PROMPTS = [
  'Hello',
  'Hello!',
  'Hi',
  'Hi!',
  'Hey',
  'Who are you?',
  'What can you do?',
  'What are you?',
  'Good morning',
  'Introduce yourself.',
  'Tell me about yourself.',
  'hello',
  'Help',
];
