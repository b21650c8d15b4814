"""Real-time chat: Socket.IO handlers over one service module."""
